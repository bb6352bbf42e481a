"""In-memory throughput: flowengine start + drive every case of the peer reference process,
end to end, against bare `transitions` (b′: one shared Machine, add_model → drive →
remove_model per instance, auto_transitions=False) measured side by side in the same run.

    python bench/bench_inmem.py [--n 10000] [--rounds 5] [--clock wall|cpu]

Prints transitions/s of each and the ratio (target ≥ 0.5×, aim 1.0×; shared/peer-bench).
SpiffWorkflow (target: flowengine ≥ 10× it) is measured too when it is importable
(`bash ../shared/peer-bench/setup.sh` makes a venv with it).

`--clock cpu` times each run by this process's CPU time (`time.process_time`) instead of
the wall clock: on a machine shared with other jobs the wall clock also counts the time
the process waited for a core, which varies between the runs a ratio compares.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE.parent.parent / "shared" / "peer-bench"
sys.path.insert(0, str(HERE.parent))

from machine_info import cpu_model  # noqa: E402
from transitions import Machine  # noqa: E402

from flowengine import Actor, Engine, SimulatedClock  # noqa: E402

MAIN = ("triage", "decide", "investigate", "reply", "close", "archive")
REDIRECT = ("triage", "decide")
STATES = ["registered", "triaged", "accepted", "investigating", "replied", "closed",
          "archived", "redirected"]


def in_jurisdiction(i: int) -> bool:
    return i % 10 != 0


def path_for(i: int) -> tuple[str, ...]:
    return MAIN if in_jurisdiction(i) else REDIRECT


def expected_transitions(n: int) -> int:
    return sum(len(path_for(i)) for i in range(n))


_now = time.perf_counter  # the timer of every run (`--clock`)


def run_flowengine(n: int) -> float:
    clock = SimulatedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    engine = Engine(processes=[HERE / "refproc.yaml"], clock=clock)
    actor = Actor("bench", "clerk")
    gc.collect()
    t0 = _now()
    for i in range(n):
        case = engine.start("refproc", {"in_jurisdiction": in_jurisdiction(i)}, actor=actor)
        for trigger in path_for(i):
            case = engine.fire(case.id, trigger, actor=actor)
        if case.state != ("archived" if in_jurisdiction(i) else "redirected"):
            raise AssertionError((i, case.state))
    return _now() - t0


class _Model:
    def __init__(self, i: int) -> None:
        self.in_jurisdiction = in_jurisdiction(i)


def run_transitions(n: int) -> float:
    m = Machine(model=None, states=STATES, initial="registered", auto_transitions=False)
    m.add_transition("triage", "registered", "triaged")
    m.add_transition("decide", "triaged", "accepted", conditions="in_jurisdiction")
    m.add_transition("decide", "triaged", "redirected", unless="in_jurisdiction")
    for t, s, d in (("investigate", "accepted", "investigating"), ("reply", "investigating", "replied"),
                    ("close", "replied", "closed"), ("archive", "closed", "archived")):
        m.add_transition(t, s, d)
    gc.collect()
    t0 = _now()
    for i in range(n):
        model = _Model(i)
        m.add_model(model)
        for trigger in path_for(i):
            getattr(model, trigger)()
        m.remove_model(model)
    return _now() - t0


def run_spiff(n: int) -> float | None:
    """SpiffWorkflow driving the same process as BPMN (the peer script's driver); None when
    SpiffWorkflow is not installed (it is not a flowengine dependency)."""
    try:
        from SpiffWorkflow.bpmn import BpmnWorkflow  # type: ignore[import-not-found]
        from SpiffWorkflow.bpmn.parser import BpmnParser  # type: ignore[import-not-found]
        from SpiffWorkflow.util.task import TaskState  # type: ignore[import-not-found]
    except ImportError:
        return None
    parser = BpmnParser()
    parser.add_bpmn_file(str(PEER / "reference.bpmn"))
    spec = parser.get_spec(parser.get_process_ids()[0])
    gc.collect()
    t0 = _now()
    for i in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        while not wf.is_completed():
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            if task.task_spec.name == "triaged":
                task.data["in_jurisdiction"] = in_jurisdiction(i)
            task.run()
            wf.do_engine_steps()
    return _now() - t0


def machine() -> dict[str, object]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "cpu": cpu_model(),
            "platform": platform.platform()}


def conditions() -> dict[str, object]:
    """When the figures were taken and how loaded the machine was (RESULTS.md writes both
    beside every figure: on a shared machine only ratios from one run compare)."""
    return {"utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "loadavg": list(os.getloadavg())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--spiff-n", type=int, default=1_000,
                    help="instances for SpiffWorkflow (0: leave it out)")
    ap.add_argument("--json", dest="json_out", help="also write the figures to this file")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time runs by the wall clock (default) or by this process's CPU time")
    args = ap.parse_args()
    global _now
    _now = time.process_time if args.clock == "cpu" else time.perf_counter
    trans = expected_transitions(args.n)
    ratios, fe_rates, tr_rates, spiff_ratios = [], [], [], []
    before = conditions()
    for r in range(args.rounds):
        order = (run_flowengine, run_transitions) if r % 2 == 0 else (run_transitions, run_flowengine)
        times = {f.__name__: f(args.n) for f in order}
        fe, tr = trans / times["run_flowengine"], trans / times["run_transitions"]
        fe_rates.append(fe)
        tr_rates.append(tr)
        ratios.append(fe / tr)
        spiff = run_spiff(args.spiff_n) if args.spiff_n > 0 else None
        line = f"round {r + 1}: flowengine {fe:,.0f}/s  transitions(b') {tr:,.0f}/s  ratio {fe / tr:.2f}"
        if spiff is not None:
            sp = expected_transitions(args.spiff_n) / spiff
            spiff_ratios.append(fe / sp)
            line += f"  spiff {sp:,.0f}/s  ×spiff {fe / sp:.1f}"
        print(line)
    out = {"n": args.n, "transitions": trans, "clock": args.clock,
           "flowengine_per_s": statistics.median(fe_rates),
           "transitions_b_prime_per_s": statistics.median(tr_rates),
           "ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
           "ratio_max": max(ratios), "machine": machine(),
           "x_spiff_median": statistics.median(spiff_ratios) if spiff_ratios else None,
           "x_spiff": spiff_ratios, "ratios": ratios, "started": before, "ended": conditions()}
    print(json.dumps(out, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
