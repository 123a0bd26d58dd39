"""A status change's time is written as `isoformat` writes it, whichever way it is produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.member_events import utc_text

# UTC itself, a zero offset that is not UTC's object, another offset, and none.
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)), None]
)


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    ZONES,
    st.booleans(),
)
def test_a_time_is_written_as_isoformat_writes_it(
    at: datetime, zone: timezone | None, whole_seconds: bool
) -> None:
    """Microseconds or none (isoformat leaves them out at zero), UTC, other offsets, naive."""
    value = at.replace(tzinfo=zone, microsecond=0 if whole_seconds else at.microsecond)
    assert utc_text(value) == value.isoformat()
