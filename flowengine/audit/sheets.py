"""Tables for people to open in a spreadsheet: CSV (UTF-8 with a byte-order mark, so
Excel reads the Chinese text) and XLSX (openpyxl, one sheet per table), and the same
tables as aligned text for the terminal.

No formula injection (the OWASP CSV-injection rule): a text cell that begins with `=`,
`+`, `-`, `@`, a tab or a carriage return could be run by the spreadsheet as a formula
(an actor named `=1+1`, a role `+cmd|' /C calc'!A0`). In CSV such a cell is written with a
leading apostrophe; in XLSX it is stored as a text cell (never a formula) with Excel's
"quote prefix" set. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | None
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Grid:
    """A titled table: a header row and rows of cells."""

    title: str
    header: list[str]
    rows: list[list[Cell]]


def risky(value: Cell) -> bool:
    """A text cell a spreadsheet could take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: Cell) -> Cell:
    """The cell as CSV writes it: a risky text gets a leading apostrophe."""
    return "'" + value if risky(value) and isinstance(value, str) else value


def csv_text(grids: Sequence[Grid], titles: bool = True) -> str:
    """Every grid (its title row, header, rows; a blank line between grids), with a BOM."""
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, grid in enumerate(grids):
        if i:
            writer.writerow([])
        if titles:
            writer.writerow([csv_cell(grid.title)])
        writer.writerow([csv_cell(h) for h in grid.header])
        writer.writerows([csv_cell(c) for c in row] for row in grid.rows)
    return buf.getvalue()


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "sheet"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[:27]} ({n})"
    taken.add(name.lower())
    return name


def write_xlsx(grids: Sequence[Grid], path: str | Path) -> None:
    """One sheet per grid: the title in A1, the header (bold) in row 2, then the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    taken: set[str] = set()
    for grid in grids:
        sheet = book.create_sheet(sheet_name(grid.title, taken))
        _put(sheet, 1, [grid.title])
        _put(sheet, 2, list(grid.header))
        for col in range(1, len(grid.header) + 1):
            sheet.cell(row=2, column=col).font = Font(bold=True)
        for i, row in enumerate(grid.rows, start=3):
            _put(sheet, i, row)
    if not grids:  # a workbook needs a sheet: an empty one says there was nothing
        book.create_sheet("empty")
    book.save(str(path))


def _put(sheet: Worksheet, row: int, values: Sequence[Cell]) -> None:
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=col, value=value)
        if risky(value):
            cell.data_type = "s"  # openpyxl took it for a formula
            cell.quotePrefix = True


def width(text: str) -> int:
    """Columns the text takes on a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def grid_lines(grid: Grid) -> list[str]:
    """The grid as aligned text: text to the left, numbers to the right."""
    everything: list[Sequence[Cell]] = [grid.header, *grid.rows]
    cells = [[shown(c) for c in row] for row in everything]
    columns = range(len(grid.header))
    widths = [max(width(r[i]) for r in cells if i < len(r)) for i in columns]
    numeric = [any(isinstance(r[i], (int, float)) for r in grid.rows if i < len(r))
               for i in columns]
    lines = [grid.title]
    for texts in cells:
        parts = []
        for i, text in enumerate(texts):
            pad = " " * (widths[i] - width(text))
            parts.append(pad + text if numeric[i] else text + pad)
        lines.append("  " + "  ".join(parts).rstrip())
    return lines


def shown(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


__all__ = ["BOM", "Cell", "FORMULA_START", "Grid", "csv_cell", "csv_text", "grid_lines",
           "risky", "sheet_name", "shown", "width", "write_xlsx"]
