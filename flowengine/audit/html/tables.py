"""Plain tables as one printable page: `flowengine lists --format html` and `flowengine
notifications list --format html`. The same page shell as the report (page.py): inline
CSS, A4, no script, no fetch, every cell escaped."""

from __future__ import annotations

from collections.abc import Sequence

from ..sheets import Cell, Grid
from .page import LANDSCAPE, esc, page, table

_EMPTY = {"zh": "没有符合条件的记录。", "en": "Nothing to list."}


def tables_html(title: str, grids: Sequence[Grid], lang: str = "zh", lead: str = "",
                kind: str = "list", landscape: bool = False, drop_empty: bool = False) -> str:
    """A page titled `title` whose tables are the grids (each captioned with its title),
    or a line saying there is nothing to list; `landscape` for tables too wide for A4
    upright; `drop_empty` leaves out the columns no row has a value in (a duty list keeps
    them: an empty 督办意见 is filled in by hand on paper)."""
    head = f"<h1>{esc(title)}</h1>" + (f'\n<p class="lead">{esc(lead)}</p>' if lead else "")
    parts = [table(*(_filled(g) if drop_empty else (g.header, g.rows)),
                   "" if g.title == title else g.title, kind)
             for g in grids if g.rows]
    if not parts:
        parts = [f'<p class="note">{esc(_EMPTY["zh" if lang == "zh" else "en"])}</p>']
    body = f'<section data-section="{esc(kind)}">\n{head}\n' + "\n".join(parts) + "\n</section>"
    return page(title, lang, [body], LANDSCAPE if landscape else "")


def _filled(grid: Grid) -> tuple[Sequence[str], Sequence[Sequence[Cell]]]:
    """The header and rows without the columns no row has a value in (the dead-letter
    list's 下次尝试 and 送达时间): paper is narrow; CSV and XLSX keep every column."""
    keep = [i for i in range(len(grid.header))
            if any(row[i] not in (None, "") for row in grid.rows)]
    return [grid.header[i] for i in keep], [[row[i] for i in keep] for row in grid.rows]


__all__ = ["tables_html"]
