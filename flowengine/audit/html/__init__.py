"""Printable, self-contained HTML for auditors and office leaders.

    page.py    the page shell: inline CSS (A4, system CJK fonts), escaping, tables
    charts.py  bar charts as inline SVG (pygal), with no script and no link out
    report.py  `flowengine report --format html`
    appendix.py  its per-case appendix (`--cases`): an index linking to a block per case
    tables.py  plain table pages: `lists` and `notifications list` (the dead letters)
    case.py    `flowengine export CASE --format html`: one case's timeline

Every page loads nothing from anywhere: a Content-Security-Policy of `default-src 'none'`
says so to the browser, and every value from case data is escaped.
"""

from __future__ import annotations

from .case import case_html, export_html
from .report import report_html

__all__ = ["case_html", "export_html", "report_html"]
