"""`flowengine report`: the KPIs a petition office or a hospital's complaints department
reports upward, and counts by any enum or date dimension, as of any instant.

    kpis.py        the figures and their definitions (立案率, 结案率, 按期办结率 …)
    select.py      which cases (received, closed or worked on when) and as they stood when
    dimensions.py  `--by`: counts and percentages by one or two dimensions, with titles
    build.py       the report object over a store or a list of cases
    grids.py       the report as titled grids: what text, CSV and XLSX print
"""

from __future__ import annotations

from .build import LANGS, Report, build_report, report
from .dimensions import UnknownDimension
from .grids import report_grids, report_lines
from .kpis import (
    KPI_NAMES,
    ProcessFigures,
    Rate,
    closing_states,
    deadline_rate,
    is_accepted,
    is_closed,
    outcome,
    percent,
)
from .select import PERIOD_BASES, cases_as_of, period_days

__all__ = ["KPI_NAMES", "LANGS", "PERIOD_BASES", "ProcessFigures", "Rate", "Report",
           "UnknownDimension", "build_report", "cases_as_of", "closing_states", "deadline_rate",
           "is_accepted", "is_closed", "outcome", "percent", "period_days", "report",
           "report_grids", "report_lines"]
