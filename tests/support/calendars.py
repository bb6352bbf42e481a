"""Calendar data the tests share."""

from __future__ import annotations

# Made up for the tests (not the State Council's notice): 元旦 off and Saturday 2027-01-09
# a make-up working day, so a period rolled from 01-09 to Monday 01-11 ends on 01-09.
YEAR_2027 = """\
name: test data for 2027 (made up; not the State Council's notice)
covers: [2027]
holidays:
  - {date: 2027-01-01, name: 元旦}
workdays:
  - {date: 2027-01-09, name: 调休上班 (test)}
"""
