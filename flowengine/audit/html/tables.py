"""Plain tables as one printable page: `flowengine lists --format html` and `flowengine
notifications list --format html`. The same page shell as the report (page.py): inline
CSS, A4, no script, no fetch, every cell escaped."""

from __future__ import annotations

from collections.abc import Sequence

from ..sheets import Grid
from .page import esc, grid_table, page

_EMPTY = {"zh": "没有符合条件的记录。", "en": "Nothing to list."}


def tables_html(title: str, grids: Sequence[Grid], lang: str = "zh", lead: str = "",
                kind: str = "list") -> str:
    """A page titled `title` whose tables are the grids (each captioned with its title),
    or a line saying there is nothing to list."""
    head = f"<h1>{esc(title)}</h1>" + (f'\n<p class="lead">{esc(lead)}</p>' if lead else "")
    parts = [grid_table(g, kind) for g in grids if g.rows]
    if not parts:
        parts = [f'<p class="note">{esc(_EMPTY["zh" if lang == "zh" else "en"])}</p>']
    body = f'<section data-section="{esc(kind)}">\n{head}\n' + "\n".join(parts) + "\n</section>"
    return page(title, lang, [body])


__all__ = ["tables_html"]
