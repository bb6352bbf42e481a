"""Errors of the SQL store, in the `FlowengineError` tree (exit 2: fix the input or setup).

    FlowengineError
    ├── DatabaseUnavailable   the URL is malformed or the server cannot be reached
    └── SchemaNotCurrent      the database's schema revision is not the one needed

They live beside the store because only the store raises them; the CLI maps every
`FlowengineError` to its exit code in one place, so no traceback reaches the user.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import FlowengineError


class DatabaseUnavailable(FlowengineError):
    """The database URL is malformed or the database cannot be opened."""

    exit_code: ClassVar[int] = 2


class SchemaNotCurrent(FlowengineError):
    """The database's schema is not the one this flowengine needs (run `db upgrade`)."""

    exit_code: ClassVar[int] = 2
