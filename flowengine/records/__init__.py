"""The records every layer shares, at the bottom of the package graph.

`case` (Case, Deadline, Actor), `events` (Event, its draft, canonical JSON and the hash
chain), `lifecycle` (the typed vocabulary of event types, statuses and deadline effects),
`values` (the JSON form of data values), `marked_yaml` (YAML that keeps line and column
marks) and `built` (the one place records are built without `__init__`). Nothing here
imports from another flowengine package except `flowengine.errors`; see
docs/architecture.md for the layers above.
"""

from .case import SYSTEM, Actor, Case, Deadline
from .events import GENESIS, Draft, Event, canonical, canonical_bytes, chain_hash

__all__ = ["Actor", "Case", "Deadline", "Draft", "Event", "GENESIS", "SYSTEM", "canonical",
           "canonical_bytes", "chain_hash"]
