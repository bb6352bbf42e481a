"""The national Chinese calendar: official data from the maintained `chinese-calendar`
package (2004–2026 in its 1.11 release), provisional years after it.

We read the package's data (its `holidays` and `workdays` tables) once and answer from
our own arrays (`TableCalendar`), for three reasons (found checking chinese-calendar
1.11): its functions validate
every call by scanning its tables, so a day-by-day loop over them is slow; its
`find_workday` reads today's date and is off by one from a rest day, so it is never
called here; and wrapping it lets calendar files add local days and later years without
waiting for a release of the package.

Names are given in Chinese, as clerks read them: a day off is named after its festival
('国庆节'), a make-up working day '调休上班 (春节)'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache

from chinese_calendar import constants as _cc  # type: ignore[import-untyped]

from . import provisional
from .base import TableCalendar, YearDays

FESTIVAL_NAMES: Mapping[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
"""chinese-calendar's English festival names in Chinese; an unknown name is kept as is."""

SOURCE = "chinese-calendar (national data, State Council notices 2004–2026)"


def festival_name(english: str) -> str:
    return FESTIVAL_NAMES.get(english, english)


def makeup_name(festival: str) -> str:
    """The name of a make-up working day shifted for `festival`: '调休上班 (春节)'."""
    return f"调休上班 ({festival})"


def _by_year(days: Mapping[date, str]) -> dict[int, dict[date, str]]:
    grouped: dict[int, dict[date, str]] = {}
    for d, name in days.items():
        grouped.setdefault(d.year, {})[d] = name
    return grouped


def national_years() -> dict[int, YearDays]:
    """Every year the package has data for (it covers whole years, first to last)."""
    holidays = _by_year({d: festival_name(str(n)) for d, n in _cc.holidays.items()})
    workdays = _by_year(
        {d: makeup_name(festival_name(str(n))) for d, n in _cc.workdays.items()}
    )
    first, last = min(holidays), max(holidays)
    return {
        year: YearDays.weekends(year).with_days(holidays.get(year, {}), workdays.get(year, {}))
        for year in range(first, last + 1)
    }


class NationalCalendar(TableCalendar):
    """Weekends, statutory holidays, shifted days off and make-up working days: the official
    data (2004–2026 in chinese-calendar 1.11), then the provisional rule for every later
    year it can compute (see `provisional.py`), marked as provisional.

    Build it with `national_calendar()` to share the one instance.
    """

    def __init__(self) -> None:
        years = national_years()
        sources = {year: SOURCE for year in years}
        later = range(max(years) + 1, provisional.LAST_YEAR + 1)
        for year in later:
            years[year] = provisional.provisional_year(year)
            sources[year] = provisional.SOURCE
        super().__init__(years, sources, provisional=later)


@cache
def national_calendar() -> NationalCalendar:
    """The shared national calendar (immutable, so one instance serves every engine)."""
    return NationalCalendar()
