"""Business calendar and statutory periods: which days are worked, and when a period ends.

`build_calendar(files)` gives the national calendar (chinese-calendar data, 2004–2026,
then the provisional statutory rule for later years) with the integrator's calendar files
layered on; `due_date` / `explain_due` apply the statutory period rules. A due date over a
provisional year is marked provisional (`provisional_years`); a question about a year
nothing covers raises `flowengine.errors.CalendarYearMissing`.
See docs/calendar.md.
"""

from __future__ import annotations

from .base import MAX_YEAR, MIN_YEAR, Calendar, TableCalendar, YearDays, dates_of_year, weekday_name
from .layers import (
    CalendarLayer,
    LayeredCalendar,
    build_calendar,
    calendar_of_texts,
    load_calendar_file,
    read_calendar_text,
)
from .national import NationalCalendar, national_calendar
from .periods import DueExplanation, due_date, end_of_day, explain_due, local_date, provisional_years

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "Calendar",
    "CalendarLayer",
    "DueExplanation",
    "LayeredCalendar",
    "NationalCalendar",
    "TableCalendar",
    "YearDays",
    "build_calendar",
    "calendar_of_texts",
    "dates_of_year",
    "due_date",
    "end_of_day",
    "explain_due",
    "load_calendar_file",
    "local_date",
    "national_calendar",
    "provisional_years",
    "read_calendar_text",
    "weekday_name",
]
