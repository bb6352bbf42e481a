"""The orchestration layer: one command (start, fire, tick, reconcile) as one unit of work.

`engine.Engine` loads the case and its pinned definition (`registry`, `compiler`), asks
the `planner` what happens (with `deadlines` for the deadline effects, `data` for the
field types, `start_data` for what a start records, `repeats` for duplicate petitions),
folds the result into the case (`fold`), words the notices (`notify`, `notify_when`),
appends through the store and tells the plugins; `host` joins a host's transaction,
`lookups` and `failures` keep the store probes and the per-case tick failures. The records
it works on are in `flowengine.records`; docs/architecture.md draws the flow. Nothing is
imported here.
"""

__all__ = ["compiler", "data", "deadlines", "engine", "failures", "fold", "host", "lookups",
           "notify", "notify_when", "planner", "registry", "repeats", "start_data"]
