"""Properties of the status rules (hypothesis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from math import ceil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.program_file import load_program
from loyalty import inputs as i
from loyalty.book import Book
from loyalty.grading import band_for, merge, thresholds
from loyalty.program import Program
from loyalty.tiers import qualified_tier
from tests.unit.core.status_world import status_program
from tests.unit.core.world import at

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = status_program()
GRADING = PROGRAM.grading
assert GRADING is not None
MEMBERS = ("M1", "M2", "M3")
common = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

action = st.one_of(
    st.tuples(st.just("fly"), st.sampled_from(MEMBERS), st.integers(10, 2500), st.integers(0, 400)),
    st.tuples(st.just("cancel"), st.sampled_from(MEMBERS), st.integers(0, 30)),
    st.tuples(st.just("match"), st.sampled_from(MEMBERS), st.sampled_from(["elite", "basic"])),
    st.tuples(st.just("wait"), st.integers(1, 200)),
    st.tuples(st.just("clock")),
)


def build(actions: list[tuple[Any, ...]]) -> list[i.Input]:
    day = 0.0
    inputs: list[i.Input] = [
        i.Enrol(f"en-{m}", m, at(0), at(0).date(), (("market", "SE"),)) for m in MEMBERS
    ]
    segments: list[tuple[str, str]] = []
    for n, act in enumerate(actions):
        day += 0.5
        when = at(day)
        if act[0] == "fly":
            flight = i.Flight(
                f"B{n}",
                "SK",
                "1",
                "CPH",
                "LHR",
                when.date(),
                act[2],
                "Y",
                "economy",
                Decimal(act[3]),
                Decimal(0),
                Decimal(0),
                "EUR",
            )
            segments.append((act[1], flight.segment_id))
            inputs.append(i.FlightFlown(f"e{n}", act[1], when, flight))
        elif act[0] == "cancel" and segments:
            member, segment = segments[act[2] % len(segments)]
            inputs.append(i.FlightCancelled(f"e{n}", member, when, segment))
        elif act[0] == "match":
            inputs.append(i.StatusMatchRequest(f"e{n}", act[1], when, "rival", act[2], "ev"))
        elif act[0] == "wait":
            day += act[1]
        else:
            inputs.append(i.Clock(f"c{n}", at(day)))
    return inputs


@common
@given(st.lists(action, max_size=60))
def test_upgrades_never_reverse_inside_a_period(actions: list[tuple[Any, ...]]) -> None:
    book = Book(PROGRAM)
    last: dict[str, tuple[Any, int]] = {}
    for inp in build(actions):
        book.handle(inp)
        for member, state in book.members.items():
            rank = PROGRAM.rank(state.earned_tier)
            before = last.get(member)
            if before is not None and before[0] == state.period_start:
                assert rank >= before[1], "the earned tier fell inside a period"
            last[member] = (state.period_start, rank)


@common
@given(st.lists(action, max_size=60))
def test_soft_landing_never_drops_more_than_one_tier_per_period(
    actions: list[tuple[Any, ...]],
) -> None:
    book = Book(PROGRAM)
    last: dict[str, tuple[Any, int]] = {}
    for inp in build(actions):
        book.handle(inp)
        for member, state in book.members.items():
            rank = PROGRAM.rank(state.earned_tier)
            before = last.get(member)
            if before is not None and state.period_start != before[0]:
                periods = state.period_start.year - before[0].year  # calendar-year periods
                assert rank >= before[1] - periods
            last[member] = (state.period_start, rank)


@common
@given(st.lists(action, max_size=60))
def test_a_match_never_outlives_its_window_unless_the_target_was_met(
    actions: list[tuple[Any, ...]],
) -> None:
    book = Book(PROGRAM)
    for inp in build(actions):
        book.handle(inp)
        today = inp.at.date()
        for state in book.members.values():
            match = state.match
            if match is not None and not match.confirmed and today > match.ends_on:
                # Only members untouched since the window closed may still show it ...
                assert state.as_of.date() <= match.ends_on
            if match is None or (not match.confirmed and state.as_of.date() > match.ends_on):
                # ... and nobody holds a tier above what they earned without a live match.
                assert PROGRAM.rank(state.tier) <= max(
                    PROGRAM.rank(state.earned_tier),
                    PROGRAM.rank(state.lifetime_tier or PROGRAM.base_tier),
                )


def brute_force_band(volumes: list[int], volume: int) -> str:
    """The documented rule, computed directly: competition rank against band boundaries."""
    assert GRADING is not None
    n = len(volumes)
    if n < GRADING.min_segment_size:
        return GRADING.default_band
    rank = 1 + sum(1 for v in volumes if v > volume)
    cumulative = Fraction(0)
    for band in GRADING.bands[:-1]:
        cumulative += Fraction(band.share)
        if volume > 0 and rank <= ceil(cumulative * n):
            return band.code
    return GRADING.bands[-1].code


volumes_strategy = st.lists(
    st.one_of(st.just(0), st.integers(0, 50), st.integers(0, 10**6)), max_size=60
)


@common
@given(volumes_strategy)
def test_classification_equals_a_brute_force_sort_of_the_segment(volumes: list[int]) -> None:
    assert GRADING is not None
    limits = thresholds(GRADING, Counter(volumes))
    ranked = len(volumes) >= GRADING.min_segment_size
    for volume in volumes:
        assert band_for(GRADING, limits, volume, ranked) == brute_force_band(volumes, volume)


@common
@given(volumes_strategy, st.lists(st.integers(0, 3), min_size=60, max_size=60))
def test_thresholds_from_merged_partitions_equal_the_whole(
    volumes: list[int], partition_of: list[int]
) -> None:
    assert GRADING is not None
    parts: list[Counter[int]] = [Counter() for _ in range(4)]
    for volume, part in zip(volumes, partition_of, strict=False):
        parts[part][volume] += 1
    assert thresholds(GRADING, merge(parts)) == thresholds(GRADING, Counter(volumes))


def test_a_member_can_move_up_while_its_own_volume_fell() -> None:
    assert GRADING is not None
    first = [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
    second = [300, 250, 200, 150, 120, 100, 90, 80, 70, 60]  # the segment fell further
    limits_1, limits_2 = thresholds(GRADING, Counter(first)), thresholds(GRADING, Counter(second))
    assert band_for(GRADING, limits_1, 600, True) == "O"
    assert band_for(GRADING, limits_2, 250, True) == "K"  # volume fell from 600, band went up


@common
@given(
    days=st.lists(st.integers(0, 400), max_size=60),
    today=st.integers(0, 500),
)
def test_window_counts_equal_a_plain_count_whatever_order_activity_arrives_in(
    days: list[int], today: int
) -> None:
    """Window counts bisect over the member's activity days; however the days arrive (in
    order, as the rulebook dates them, or not), the counts are those of a plain count."""
    from datetime import date, timedelta

    from loyalty import events as ev
    from loyalty.apply import apply
    from loyalty.lifecycle import window_counts

    start = date(2026, 1, 1)
    state = apply(None, ev.Enrolled("M1", at(0), start, PROGRAM.tiers[0], ()))
    for day in days:
        apply(state, ev.ActivityRecorded(start + timedelta(days=day)))
    assert list(state.activity_days) == sorted(state.activity_days)
    now = (start + timedelta(days=today)).toordinal()
    window = PROGRAM.lifecycle.window_days
    latest = sum(1 for d in days if now - window < (start + timedelta(days=d)).toordinal() <= now)
    previous = sum(
        1
        for d in days
        if now - 2 * window < (start + timedelta(days=d)).toordinal() <= now - window
    )
    assert window_counts(state, PROGRAM, start + timedelta(days=today)) == (latest, previous)


def _tiers_without_gates(program: Program, credit: dict[str, int], above: str) -> str:
    """The upgrade check by its definition: every alternative of every higher tier."""
    for rank, tier, alternatives in program.tier_checks:
        if rank <= program.rank(above):
            break
        if any(all(credit.get(c, 0) >= m for c, m in alt) for alt in alternatives):
            return tier
    return above


TIER_PROGRAMS = [
    PROGRAM,
    load_program(ROOT / "programs/airline.yaml"),
    replace(
        PROGRAM,
        tier_rules=replace(
            PROGRAM.tier_rules,
            thresholds={
                "silver": ({"q_spend": 5, "q_miles": 2}, {"q_segments": 0}),
                "gold": ({"q_miles": 10}, {"q_spend": 7, "q_segments": 3}),
            },
        ),
    ),
]
CURRENCIES = (
    "q_spend",
    "q_segments",
    "qualifying_miles",
    "qualifying_segments",
    "qualifying_spend",
    "q_miles",
)


@common
@given(
    st.sampled_from(TIER_PROGRAMS),
    st.dictionaries(st.sampled_from(CURRENCIES), st.integers(-50, 200_000)),
    st.integers(0, 4),
)
def test_the_upgrade_check_with_its_shortcut_equals_the_check_by_definition(
    program: Program, credit: dict[str, int], floor: int
) -> None:
    above = program.tiers[min(floor, len(program.tiers) - 1)]
    assert qualified_tier(program.hot, credit, above) == _tiers_without_gates(
        program, credit, above
    )


@common
@given(
    enrolled=st.integers(0, 400),
    last=st.none() | st.integers(0, 400),
    today=st.integers(0, 800),
    window=st.integers(1, 200),
    exploration=st.integers(0, 200),
    inactive=st.integers(1, 400),
)
def test_the_next_stage_check_is_the_first_of_its_days_after_today(
    enrolled: int, last: int | None, today: int, window: int, exploration: int, inactive: int
) -> None:
    """The next day time alone may change the stage, by its definition in dates: the first
    after today of leaving exploration, one and two windows without activity, and the
    inactivity limit (the rulebook counts in day ordinals)."""
    from datetime import UTC, date, datetime, timedelta

    from loyalty import events as ev
    from loyalty.apply import apply
    from loyalty.lifecycle import next_check
    from loyalty.program_status import Lifecycle
    from loyalty.state import NO_DAY

    start = date(2026, 1, 1)
    rules = Lifecycle(window_days=window, exploration_days=exploration, inactive_days=inactive)
    program = replace(PROGRAM, lifecycle=rules)
    state = apply(
        None, ev.Enrolled("M1", at(0), start + timedelta(days=enrolled), PROGRAM.tiers[0], ())
    )
    state.last_activity_on = None if last is None else start + timedelta(days=last)
    now = start + timedelta(days=today)
    state.as_of = datetime(now.year, now.month, now.day, 12, tzinfo=UTC)
    since = state.last_activity_on or state.enrolled_on
    days = [
        state.enrolled_on + timedelta(days=exploration),
        since + timedelta(days=window),
        since + timedelta(days=2 * window),
        since + timedelta(days=inactive),
    ]
    expected = min((d for d in days if d > now), default=None)
    assert next_check(state, program.hot) == (NO_DAY if expected is None else expected.toordinal())
