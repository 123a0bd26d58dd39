from __future__ import annotations

from datetime import date

import pytest

from loyalty.calendar import add_months
from loyalty.program_status import PeriodKind
from loyalty.tiers import period_containing
from tests.unit.core.status_world import status_program


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 1), 24, date(2028, 5, 1)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_last_day(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_anniversary_periods_roll_from_the_enrolment_day() -> None:
    from dataclasses import replace

    program = status_program()
    program = replace(
        program, tier_rules=replace(program.tier_rules, period=PeriodKind.ANNIVERSARY)
    )
    enrolled = date(2024, 2, 29)
    assert period_containing(program, enrolled, date(2026, 3, 1)) == (
        date(2026, 2, 28),
        date(2027, 2, 27),
    )
    assert period_containing(program, enrolled, date(2026, 2, 27)) == (
        date(2025, 2, 28),
        date(2026, 2, 27),
    )
