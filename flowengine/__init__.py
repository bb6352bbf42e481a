"""flowengine: run petition and complaint procedures defined in YAML.

The public API is what this module exports; everything else may change between releases.

    from flowengine import Engine, Actor, SimulatedClock
    engine = Engine(db="sqlite:///cases.db", processes=["processes/"])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "…"},
                        actor=Actor("王芳", "clerk"))
    engine.fire(case.id, "accept", actor=Actor("王芳", "clerk"))
"""

from __future__ import annotations

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

__all__ = [
    "Actor", "CalendarYearMissing", "Case", "CaseNotFound", "ChainBroken", "Clock", "ClockError",
    "ConcurrentUpdate", "DatabaseUnavailable", "Deadline", "DefinitionError", "Engine", "Event",
    "FlowengineError", "HostTransactionMissing", "IntegrityError", "InvalidData", "Problem",
    "ProcessDef", "ProcessNotFound", "ReplayMismatch", "SYSTEM", "ScenarioResult",
    "SchemaNotCurrent", "SimulatedClock", "StoreBusy", "StoreError", "SystemClock",
    "TransactionUnsupported", "TriggerRejected", "ValueRefused", "load_process",
    "run_scenario", "validate_file",
]
