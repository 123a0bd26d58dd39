"""A status change's time is written as `isoformat` writes it, whichever way it is produced;
a status line is its record as orjson writes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.member_events import STATUS_EVENTS, status_line, status_record, utc_text
from edge.program_file import load_program
from entrypoints.replay import new_clock, ordered_inputs
from loyalty import events as ev
from loyalty.book import Book
from workload.generator import Workload

ROOT = Path(__file__).resolve().parents[3]

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


def _status_events() -> list[ev.DomainEvent]:
    """Every status change a generated airline workload makes (holds, matches, rules, ...)."""
    program = load_program(ROOT / "programs" / "airline.yaml")
    book = Book(program)
    found: list[ev.DomainEvent] = []
    lines = Workload(40, 6000, 3, program).lines()
    for _, _, inp, _ in ordered_inputs(lines, new_clock(book)):
        if inp is not None:
            outcome = book.handle(inp)
            found += [e for _, e in outcome.events if type(e) in STATUS_EVENTS]
            for follow_up in outcome.follow_ups:
                found += [e for _, e in follow_up.events if type(e) in STATUS_EVENTS]
    return found


def test_a_status_line_is_the_record_written_by_orjson() -> None:
    """`status_line` (one dict, the time written by orjson) against `status_record` dumped,
    for every kind of status change, at UTC, another offset and no zone, with reasons that
    need escaping."""
    events = _status_events()
    assert {type(e) for e in events} >= STATUS_EVENTS - {ev.MatchConfirmed}
    zones = [UTC, timezone(timedelta(hours=-3)), None]
    for n, event in enumerate(events):
        change: Any = event
        at = change.at.replace(tzinfo=zones[n % 3])
        reason = change.reason + ' "quoted"\n\u00e9' * (n % 2)
        if isinstance(event, ev.AccrualHeld):  # its time and reason are its hold's
            variant: Any = replace(event, hold=replace(event.hold, at=at, reason=reason))
        else:
            variant = replace(change, at=at, reason=reason)
        assert variant.at == at and variant.reason == reason
        for option in (0, orjson.OPT_APPEND_NEWLINE):
            expected = orjson.dumps(status_record(variant), option=option)
            assert status_line(variant, option) == expected
