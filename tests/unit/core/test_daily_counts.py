"""The daily accrual counters (velocity limits, partner caps) keep today's and yesterday's
totals only, whatever order the days come in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty.apply import count_daily
from loyalty.state import MemberState

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _reference(totals: dict[str, int], on: date, partner_id: str | None, points: int) -> None:
    """The definition: add to the day's counters, then drop every day before yesterday."""
    day = on.isoformat()
    totals[f"{day}|*"] = totals.get(f"{day}|*", 0) + points
    if partner_id is not None:
        totals[f"{day}|{partner_id}"] = totals.get(f"{day}|{partner_id}", 0) + points
    oldest = (on - timedelta(days=1)).isoformat()
    for stale in [k for k in totals if k[:10] < oldest]:
        del totals[stale]


calls = st.lists(
    st.tuples(
        st.integers(0, 40).map(lambda n: date(2026, 1, 1) + timedelta(days=n)),
        st.sampled_from([None, "hotel", "car", "*x"]),
        st.integers(0, 5000),
    ),
    max_size=60,
)


@given(calls)
def test_counters_match_their_definition(sequence: list[tuple[date, str | None, int]]) -> None:
    state = MemberState("M1", date(2026, 1, 1), "blue", AT)
    expected: dict[str, int] = {}
    for on, partner_id, points in sequence:
        count_daily(state, on, partner_id, points)
        _reference(expected, on, partner_id, points)
        assert state.day_totals == expected
        assert list(state.day_totals) == list(expected)
