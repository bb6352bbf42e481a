"""The 2025 and 2026 State Council holiday arrangements, typed in from domain.md §5.

Test data only, written from the notices' tables and not from chinese-calendar, so the
national calendar is checked against an independent source.
"""

from __future__ import annotations

from datetime import date, timedelta


def days(first: str, last: str | None = None) -> list[date]:
    """Every date from `first` to `last` inclusive (just `first` without `last`)."""
    a = date.fromisoformat(first)
    b = date.fromisoformat(last or first)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# (festival names the days may carry, first day off, last day off)
DAYS_OFF: dict[int, list[tuple[set[str], str, str | None]]] = {
    2025: [
        ({"元旦"}, "2025-01-01", None),
        ({"春节"}, "2025-01-28", "2025-02-04"),
        ({"清明节"}, "2025-04-04", "2025-04-06"),
        ({"劳动节"}, "2025-05-01", "2025-05-05"),
        ({"端午节"}, "2025-05-31", "2025-06-02"),
        ({"国庆节", "中秋节"}, "2025-10-01", "2025-10-08"),
    ],
    2026: [
        ({"元旦"}, "2026-01-01", "2026-01-03"),
        ({"春节"}, "2026-02-15", "2026-02-23"),
        ({"清明节"}, "2026-04-04", "2026-04-06"),
        ({"劳动节"}, "2026-05-01", "2026-05-05"),
        ({"端午节"}, "2026-06-19", "2026-06-21"),
        ({"中秋节"}, "2026-09-25", "2026-09-27"),
        ({"国庆节"}, "2026-10-01", "2026-10-07"),
    ],
}

# (festival the day was shifted for, make-up working day)
MAKEUP_DAYS = {
    2025: [
        ("春节", "2025-01-26"), ("春节", "2025-02-08"), ("劳动节", "2025-04-27"),
        ("国庆节", "2025-09-28"), ("国庆节", "2025-10-11"),
    ],
    2026: [
        ("元旦", "2026-01-04"), ("春节", "2026-02-14"), ("春节", "2026-02-28"),
        ("劳动节", "2026-05-09"), ("国庆节", "2026-09-20"), ("国庆节", "2026-10-10"),
    ],
}


def day_off_cases() -> list[tuple[date, set[str]]]:
    return [
        (d, names)
        for year in DAYS_OFF
        for names, first, last in DAYS_OFF[year]
        for d in days(first, last)
    ]


def makeup_cases() -> list[tuple[date, str]]:
    return [(date.fromisoformat(d), fest) for year in MAKEUP_DAYS for fest, d in MAKEUP_DAYS[year]]
