"""flowengine: run petition and complaint procedures defined in YAML.

The public API is what this module exports; everything else may change between releases.

    from flowengine import Engine, Actor, SimulatedClock
    engine = Engine(db="sqlite:///cases.db", processes=["processes/"])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "…"},
                        actor=Actor("王芳", "clerk"))
    engine.fire(case.id, "accept", actor=Actor("王芳", "clerk"))

The names are imported on first use (PEP 562), so that `import flowengine` (and with it
every command line start) does not pay for the engine, the definition validator and
jsonschema when they are not needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_getattr

if TYPE_CHECKING:
    from .clock import Clock, SimulatedClock, SystemClock
    from .definition.loader import load_process, validate_file
    from .definition.model import ProcessDef
    from .engine.engine import Engine
    from .engine.host import TransactionUnsupported
    from .errors import (
        CalendarYearMissing,
        CaseNotFound,
        ChainBroken,
        ClockError,
        ConcurrentUpdate,
        DefinitionError,
        FlowengineError,
        IntegrityError,
        InvalidData,
        Problem,
        ProcessNotFound,
        ReplayMismatch,
        TriggerRejected,
    )
    from .records.case import SYSTEM, Actor, Case, Deadline
    from .records.events import Event
    from .simulate import ScenarioResult, run_scenario
    from .store.errors import (
        DatabaseUnavailable,
        HostTransactionMissing,
        SchemaNotCurrent,
        StoreBusy,
        StoreError,
        ValueRefused,
    )

# Public name -> the module (relative to this package) that defines it.
_HOME = {
    **dict.fromkeys(("Clock", "SimulatedClock", "SystemClock"), ".clock"),
    **dict.fromkeys(("load_process", "validate_file"), ".definition.loader"),
    "ProcessDef": ".definition.model",
    **dict.fromkeys(("SYSTEM", "Actor", "Case", "Deadline"), ".records.case"),
    "Engine": ".engine.engine",
    "Event": ".records.events",
    "TransactionUnsupported": ".engine.host",
    **dict.fromkeys(("CalendarYearMissing", "CaseNotFound", "ChainBroken", "ClockError",
                     "ConcurrentUpdate", "DefinitionError", "FlowengineError",
                     "IntegrityError", "InvalidData", "Problem", "ProcessNotFound",
                     "ReplayMismatch", "TriggerRejected"), ".errors"),
    **dict.fromkeys(("ScenarioResult", "run_scenario"), ".simulate"),
    **dict.fromkeys(("DatabaseUnavailable", "HostTransactionMissing", "SchemaNotCurrent",
                     "StoreBusy", "StoreError", "ValueRefused"), ".store.errors"),
}


__getattr__ = lazy_getattr(__name__, _HOME, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Actor", "CalendarYearMissing", "Case", "CaseNotFound", "ChainBroken", "Clock", "ClockError",
    "ConcurrentUpdate", "DatabaseUnavailable", "Deadline", "DefinitionError", "Engine", "Event",
    "FlowengineError", "HostTransactionMissing", "IntegrityError", "InvalidData", "Problem",
    "ProcessDef", "ProcessNotFound", "ReplayMismatch", "SYSTEM", "ScenarioResult",
    "SchemaNotCurrent", "SimulatedClock", "StoreBusy", "StoreError", "SystemClock",
    "TransactionUnsupported", "TriggerRejected", "ValueRefused", "load_process",
    "run_scenario", "validate_file",
]
