"""The provisional calendar: what the law alone says about a year the State Council has not
arranged yet, so that a legal duty (registration, acceptance) never waits for the notice.

全国年节及纪念日放假办法 art. 2 gives every citizen 13 statutory days off: 元旦 (1 January),
春节 (农历除夕 to 正月初三, four days), 清明 (the 清明 solar-term day), 劳动节 (1–2 May),
端午 (农历五月初五), 中秋 (农历八月十五) and 国庆 (1–3 October). A provisional year is
Saturdays and Sundays off plus those 13 days, with **no** make-up working days and no
substitute days off (补假, 调休): those are what the yearly notice decides, and guessing
them is exactly what the engine must not do. Every due date computed over a provisional
day is marked provisional and recomputed when the year's official data arrives.

The lunar dates come from `borax` (MIT, pure Python, lunar tables 1900–2100; chosen over
`lunardate`, which is GPL, and `zhdate`, which is unmaintained) and the 清明 day from
`chinese-calendar`'s solar-term formula (the package already supplies the national data).
No date is typed in by hand. A year outside both libraries' range cannot be computed and
stays refused with `CalendarYearMissing`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from borax.calendars.lunardate import (  # type: ignore[import-untyped]
    MAX_LUNAR_YEAR,
    MIN_LUNAR_YEAR,
    LunarDate,
)
from chinese_calendar import get_solar_terms  # type: ignore[import-untyped]

from .base import YearDays

FIRST_YEAR: int = MIN_LUNAR_YEAR + 1  # 除夕 of a year is the last day of the previous lunar year
LAST_YEAR: int = MAX_LUNAR_YEAR
"""The years the provisional rule can compute (the lunar library's range)."""

SUFFIX = "（暂定）"
"""Appended to a provisional day's festival name: '春节（暂定）'."""

SOURCE = "provisional: 全国年节及纪念日放假办法 art. 2 (weekends + 13 statutory days, no 调休)"


def computable(year: int) -> bool:
    """Whether the provisional rule can compute `year`."""
    return FIRST_YEAR <= year <= LAST_YEAR


def statutory_days(year: int) -> dict[date, str]:
    """The 13 statutory days off of `year`, each with its festival's name (no suffix)."""
    if not computable(year):
        raise ValueError(f"the provisional rule covers {FIRST_YEAR}–{LAST_YEAR}, not {year}")
    new_year: date = LunarDate(year, 1, 1).to_solar_date()
    days = {date(year, 1, 1): "元旦"}
    days.update({new_year + timedelta(days=i): "春节" for i in range(-1, 3)})  # 除夕–初三
    days[_qingming(year)] = "清明节"
    days.update({date(year, 5, 1): "劳动节", date(year, 5, 2): "劳动节"})
    days[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
    days[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    days.update({date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    return days


def _qingming(year: int) -> date:
    terms = get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    found = [d for d, name in terms if name == "清明"]
    if len(found) != 1:  # the formula always answers inside 4–6 April; never guess
        raise ValueError(f"chinese-calendar gave no single 清明 day for {year}: {terms}")
    day: date = found[0]
    return day


@cache
def provisional_year(year: int) -> YearDays:
    """Weekends plus the statutory days of `year`, named '春节（暂定）' etc."""
    named = {d: name + SUFFIX for d, name in statutory_days(year).items()}
    return YearDays.weekends(year).with_days(named, {})
