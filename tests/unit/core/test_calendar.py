from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.calendar import add_months, as_written
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


@given(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))]))
    | st.datetimes()
)
def test_a_time_as_written_is_written_as_orjson_writes_the_time_itself(at: datetime) -> None:
    # The ledger, status lines and digests give orjson `as_written(at)` with OPT_NAIVE_UTC:
    # the bytes must be those of `at` without it, whatever the zone (or none).
    assert orjson.dumps([at]) == orjson.dumps([as_written(at)], option=orjson.OPT_NAIVE_UTC)
    assert as_written(at) is as_written(at)  # remembered for the last time asked


def test_as_written_answers_for_the_time_asked_not_an_equal_one() -> None:
    utc = datetime(2026, 3, 1, 12, tzinfo=UTC)
    same_moment = datetime(2026, 3, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert as_written(utc) == datetime(2026, 3, 1, 12)
    assert as_written(same_moment) == "2026-03-01T13:00:00+01:00"  # equal time, other text
    assert as_written(utc) == datetime(2026, 3, 1, 12)
