"""The day memos (`calendar.moment_of`, the state's `as_of_moment`, `enrolled_ordinal` and
`activity_ordinal`) answer what `date()` and `toordinal()` answer, whatever was asked before
and however the fields were reassigned; and they never reach the changelog."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty.calendar import day_of, moment_of, ordinal_of
from loyalty.state import MemberState, activity_ordinal, as_of_moment, enrolled_ordinal
from streams.state_codec import encode

_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(st.lists(st.tuples(_times, st.booleans()), min_size=1, max_size=30))
def test_a_time_s_day_and_ordinal_whatever_was_asked_before(
    asks: list[tuple[datetime, bool]],
) -> None:
    """Each time asked once or twice in a row, equal times as distinct objects too."""
    for at, again in asks:
        copies = [at, at + timedelta(0)] if again else [at]
        for time in copies:
            assert day_of(time) == time.date()
            assert ordinal_of(time) == time.toordinal()
            moment = moment_of(time)
            assert (moment.at, moment.day, moment.ordinal) == (
                time,
                time.date(),
                time.toordinal(),
            )


@given(
    st.lists(
        st.tuples(st.sampled_from(["as_of", "enrolled_on", "last_activity_on"]), _times),
        max_size=30,
    )
)
def test_the_state_s_day_memos_follow_every_reassignment(
    changes: list[tuple[str, datetime]],
) -> None:
    state = MemberState("M1", date(2026, 1, 1), "blue", datetime(2026, 1, 1, tzinfo=UTC))
    assert activity_ordinal(state) is None
    for field, at in changes:
        if field == "as_of":
            state.as_of = at
        elif field == "enrolled_on":
            state.enrolled_on = at.date()
        else:
            state.last_activity_on = at.date()
        moment = as_of_moment(state)
        assert (moment.day, moment.ordinal) == (state.as_of.date(), state.as_of.toordinal())
        assert enrolled_ordinal(state) == state.enrolled_on.toordinal()
        last = state.last_activity_on
        assert activity_ordinal(state) == (None if last is None else last.toordinal())


@given(_times, _days)
def test_the_memos_are_not_persisted_nor_compared(at: datetime, last: date) -> None:
    state = MemberState("M1", date(2026, 1, 1), "blue", at, last_activity_on=last)
    fresh = MemberState("M1", date(2026, 1, 1), "blue", at, last_activity_on=last)
    before = encode(state)
    as_of_moment(state), enrolled_ordinal(state), activity_ordinal(state)
    assert encode(state) == before
    assert state == fresh
