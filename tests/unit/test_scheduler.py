"""Wall time to event time: tick boundaries and ids (no Kafka here)."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from edge.translate import decode_external
from loyalty.inputs import Clock
from streams.scheduler import boundary, default_settle_every, due, settles, tick_line


def test_a_tick_is_the_last_boundary_before_the_lagged_wall_clock() -> None:
    now = datetime(2026, 11, 23, 10, 0, 7, 500_000, tzinfo=UTC)
    minute = timedelta(minutes=1)
    assert boundary(now, minute, timedelta(seconds=5)) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    # Within the lag of a boundary, the tick is still the previous one.
    assert boundary(now, minute, timedelta(seconds=8)) == datetime(2026, 11, 23, 9, 59, tzinfo=UTC)
    assert boundary(now, timedelta(hours=1), timedelta(0)) == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_a_tick_id_depends_only_on_its_time_and_decodes_as_a_clock() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    line = tick_line(at)
    assert line == tick_line(at)  # a restarted scheduler repeats it: the engine dedups it
    decoded = decode_external(line)
    assert isinstance(decoded, Clock)
    assert decoded.event_id == "tick-20261123T100000Z" and decoded.at == at
    assert orjson.loads(line)["type"] == "clock"


def test_event_time_never_goes_back() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert due(None, at)
    assert due(at - timedelta(minutes=1), at)
    assert not due(at, at)
    assert not due(at + timedelta(minutes=1), at)


def test_sub_second_ticks_have_ids_of_their_own() -> None:
    """Four ticks a second are four clocks: the same id for two of them would be a conflict
    the engine rejects, so only one tick a second would take effect."""
    from loyalty.book import Book
    from tests.unit.core.world import make_program

    every = timedelta(milliseconds=250)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ticks = [decode_external(tick_line(start + n * every)) for n in range(8)]
    ids = [t.event_id for t in ticks if isinstance(t, Clock)]
    assert len(set(ids)) == 8
    assert ids[0] == "tick-20261123T100000Z"  # whole seconds keep the id they always had
    assert ids[1] == "tick-20261123T100000.250000Z"
    book = Book(make_program())
    assert [book.handle(t).kind for t in ticks if isinstance(t, Clock)] == ["applied"] * 8


def test_ticks_settle_on_their_own_boundaries_only() -> None:
    """Which ticks settle transfers depends on the tick's time alone: a restarted scheduler
    repeats a tick with the same content, so the engine sees a duplicate, not a conflict."""
    every, settle_every = timedelta(milliseconds=250), timedelta(seconds=2)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ticks = [decode_external(tick_line(start + n * every, settle_every)) for n in range(17)]
    flags = [t.settle for t in ticks if isinstance(t, Clock)]
    assert flags == [n % 8 == 0 for n in range(17)]
    assert tick_line(start + every, settle_every) == tick_line(start + every, settle_every)
    assert settles(start + every, None)  # without --settle-every every tick settles
    assert orjson.loads(tick_line(start + every, settle_every))["settle"] is False


def test_by_default_ticks_settle_about_every_two_seconds_on_their_own_boundaries() -> None:
    second = timedelta(seconds=1)
    assert default_settle_every(second / 4) == 2 * second
    assert default_settle_every(second / 10) == 2 * second
    assert default_settle_every(0.3 * second) == 2.1 * second  # a multiple of the interval
    assert default_settle_every(60 * second) == 60 * second  # minute ticks: every one settles


def test_the_clock_command_refuses_a_settling_interval_off_its_ticks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from entrypoints.cli import main

    assert main(["clock", "--every", "0.3", "--settle-every", "1"]) == 2
    assert "multiple of --every" in capsys.readouterr().err
