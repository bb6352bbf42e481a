"""The page shell shared by the report and the case timeline.

Why so plain: the file is filed and printed, often years later and on machines without
network access, so it carries its CSS inline, asks only for fonts the system has (Noto
Sans CJK SC and the usual Chinese system fonts, then any sans-serif), forbids every
fetch and script with a Content-Security-Policy, and prints on A4 with a page break
before each section. Everything that comes from case data goes through `esc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from ..sheets import Cell, Grid, shown

CSP = "default-src 'none'; style-src 'unsafe-inline'"
FONTS = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
         '"Microsoft YaHei", sans-serif')
CSS = """
@page { size: A4; margin: 14mm 12mm; }
html { font-family: FONTS; font-size: 10pt; color: #1d1d1f; }
body { margin: 0 auto; max-width: 186mm; padding: 8mm 0; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; border-bottom: 1.5px solid #3b5b8c; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 5mm 0 1mm; }
p.lead { color: #444; margin: 0 0 4mm; }
section { break-before: page; page-break-before: always; }
section.first { break-before: auto; page-break-before: auto; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 5mm; }
caption { text-align: left; font-weight: bold; padding: 1mm 0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #b8bec8; padding: 1.2mm 2mm; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eef2f8; font-weight: 600; text-align: left; overflow-wrap: break-word; }
table[data-table^="appendix"] td { overflow-wrap: break-word; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 3mm 0 6mm; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption, .note { color: #555; font-size: 9pt; }
table[data-table="chain"] td { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }
.warn { color: #a4262c; font-weight: 600; }
ul.plain { margin: 0; padding-left: 4mm; }
article.case { break-inside: avoid; page-break-inside: avoid; margin: 0 0 4mm; }
article.case h3 { margin: 4mm 0 1mm; }
article.case p.lead { margin: 0 0 1mm; font-size: 9pt; }
td.ok { color: #2d6a2e; }
td.provisional { color: #8a5a00; font-size: 9pt; }
td.date, td.short { white-space: nowrap; }
table[data-table="kpis"] th, table[data-table="deadlines"] th { white-space: nowrap; }
table[data-table="outbox"] { font-size: 8.5pt; }
table[data-table="outbox"] td:first-child { white-space: nowrap; }
table[data-table="outbox"] td:nth-last-child(2) { min-width: 22mm; }
table[data-table="outbox"] td:last-child { min-width: 40mm; }
a { color: #2f4f80; text-decoration: none; }
a.back { font-size: 8.5pt; }
@media print { a.back { display: none; } }
""".replace("FONTS", FONTS)


def esc(value: object) -> str:
    """Text for HTML: `<script>` stays text; quotes escaped for attributes too."""
    return escape("" if value is None else str(value), quote=True)


LANDSCAPE = "@page { size: A4 landscape; } body { max-width: 273mm; }"


def page(title: str, lang: str, sections: Iterable[str], extra_css: str = "") -> str:
    """The whole document; the first section starts on the first page; `extra_css`
    (e.g. `LANDSCAPE` for a wide table) comes after the shared CSS."""
    body = "\n".join(sections).replace("<section", '<section class="first"', 1)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}{extra_css}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def section(heading: str, *parts: str, kind: str = "") -> str:
    data = f' data-section="{esc(kind)}"' if kind else ""
    return f"<section{data}>\n<h2>{esc(heading)}</h2>\n" + "\n".join(parts) + "\n</section>"


def cell(value: Cell) -> str:
    """A cell; a number right-aligned, a short word or a date kept on one line (a narrow
    column must not print 已超\n期 or 2026-\n07-31)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{esc(shown(value))}</td>'
    text = shown(value)
    if len(text) <= 17:
        return f'<td class="short">{esc(text)}</td>'
    return f"<td>{esc(text)}</td>"


def table(header: Sequence[str], rows: Iterable[Sequence[Cell]], caption: str = "",
          kind: str = "") -> str:
    """A table; cells are text, numbers right-aligned as the text report prints them."""
    data = f' data-table="{esc(kind)}"' if kind else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table{data}>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def grid_table(grid: Grid, kind: str = "") -> str:
    return table(grid.header, grid.rows, grid.title, kind)


__all__ = ["CSP", "CSS", "LANDSCAPE", "esc", "grid_table", "page", "section", "table"]
