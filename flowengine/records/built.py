"""The one place records are built without their dataclass `__init__`.

Why: a fire builds an `Event` and copies a `Case` with its deadlines; going through the
generated `__init__` (one `object.__setattr__` per field of a frozen dataclass) or
`dataclasses.replace` costs a measurable share of a fire (bench/bench_inmem.py). `built`
sets every field at once on an object nobody else holds yet, so a frozen record is never
written to after it was handed out; a copy is `built` over a copy of the fields
(`Case.copy`). Property tests pin that a record built
here equals the one its `__init__` builds.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def built(cls: type[T], values: dict[str, Any]) -> T:
    """`cls(**values)` without `__init__`: `values` must name every field (no defaults,
    no validation, no `__post_init__`). The dict becomes the object's own: the caller
    hands it over."""
    obj = object.__new__(cls)
    object.__setattr__(obj, "__dict__", values)  # a frozen dataclass refuses `obj.x = …`
    return obj
