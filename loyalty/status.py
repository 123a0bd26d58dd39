"""Status after each change: derived counters, upgrades, status-match progress, the tier held
and the lifecycle stage. Called by the book after an event (or time) has been applied."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from loyalty import events as ev
from loyalty.calendar import add_months, day_of, moment_of
from loyalty.grading import period_of
from loyalty.hot import Hot
from loyalty.lifecycle import STAGE_VALUES, oldest_activity, stage_of
from loyalty.program import Program
from loyalty.state import MemberState
from loyalty.tiers import held_tier, period_containing, qualified_tier

EARN_KINDS: Final = frozenset({"earn", "retro_claim"})
EXPIRY_BARRIER_DAYS: Final = 90  # activity this close to an inactivity expiry is a barrier at work


def decide_derived(
    state: MemberState,
    program: Program,
    decided: list[ev.DomainEvent],
    now: datetime,
    cause: str,
    ungraded_from: str | None = None,
) -> list[ev.DomainEvent]:
    """Counters that follow from an event's postings: grading volume, match progress, and the
    activity-extended-expiry barrier. Computed on the state before the event is applied.
    `ungraded_from`: the oldest grading period not graded yet (None: none graded so far)."""
    derived: list[ev.DomainEvent] = []
    hot, match = program.hot, state.match
    progress: dict[str, int] = {}
    active = match is not None and not match.confirmed and day_of(now) <= match.ends_on
    active_day = None
    for event in decided:
        # Two checks, not `isinstance` of a union: compiled, each is a native type test, where
        # the union is built and tested generically per event.
        if isinstance(event, ev.QualifyingCredited) or isinstance(event, ev.PointsCredited):  # noqa: SIM101
            posting = event.posting
            period = volume_period(hot, event)
            if period is not None:
                derived.append(ev.VolumeCounted(period, posting.points, ungraded_from))
            if (
                isinstance(event, ev.QualifyingCredited)
                and active
                and match is not None
                and posting.currency in match.target
            ):
                progress[posting.currency] = progress.get(posting.currency, 0) + posting.points
        elif isinstance(event, ev.ActivityRecorded):
            active_day = event.on
    if progress:
        derived.append(ev.MatchProgressed(progress))
    if active_day is not None:
        barrier = expiry_barrier(state, hot, active_day, now, cause)
        if barrier is not None:
            derived.append(barrier)
    return derived


def volume_period(hot: Hot, event: ev.QualifyingCredited | ev.PointsCredited) -> str | None:
    """The grading period a credit counts towards as volume, or None: qualifying credit in the
    grading's metric, or points earned (not bonuses) when the metric is `points_earned`.
    From the programme's compiled view: the grading's own fields are generic lookups."""
    if hot.grading is None:
        return None
    posting = event.posting
    metric = hot.grading_metric
    if isinstance(event, ev.QualifyingCredited):
        counts = posting.currency == metric
    else:
        counts = metric == "points_earned" and posting.kind in EARN_KINDS
    return period_of(hot.grading_months, day_of(posting.at)) if counts else None


def expiry_barrier(
    state: MemberState, hot: Hot, active_day: date, now: datetime, cause: str
) -> ev.BarrierApplied | None:
    """Activity shortly before an inactivity expiry: the barrier that kept the points.
    `hot`: the programme's compiled view (`Program.hot`)."""
    if not hot.expires_on_inactivity or state.last_activity_on is None or not state.has_points:
        return None
    months = hot.expiry_months
    due = add_months(state.last_activity_on, months)
    if not 0 <= (due - active_day).days <= EXPIRY_BARRIER_DAYS:
        return None
    return ev.BarrierApplied(
        state.member_id,
        now,
        "activity_extended_expiry",
        cause,
        f"activity on {active_day} moved the expiry of {state.balance} points from "
        f"{due} to {add_months(active_day, months)}",
    )


def decide_status(
    state: MemberState, program: Program, hot: Hot, now: datetime, cause: str
) -> list[ev.DomainEvent]:
    """`hot` is `program.hot`, passed by the book (see `retention.decide_rules`)."""
    events: list[ev.DomainEvent] = []
    moment = moment_of(now)
    today = moment.day
    earned = state.earned_tier
    # Only tiers above the earned one can raise it: checking from there down stops early.
    qualified = qualified_tier(hot, state.period_qualifying, earned)
    if qualified != earned:
        events.append(ev.EarnedTierRaised(qualified))
        earned = qualified
    match = state.match
    match_over = False
    if match is not None and not match.confirmed:
        if all(match.progress.get(c, 0) >= need for c, need in match.target.items()):
            assert state.period_end is not None
            _, next_end = period_containing(
                program, state.enrolled_on, state.period_end + timedelta(days=1)
            )
            events.append(
                ev.MatchConfirmed(
                    state.member_id,
                    now,
                    match.tier,
                    next_end,
                    cause,
                    f"challenge target {match.target} met: {match.tier} confirmed until {next_end}",
                )
            )
        elif today > match.ends_on:
            events.append(
                ev.MatchExpired(
                    state.member_id,
                    now,
                    match.tier,
                    cause,
                    f"challenge target {match.target} not met by {match.ends_on} "
                    f"(earned {match.progress})",
                )
            )
            match_over = True
    elif match is not None and match.confirmed_until is not None and today > match.confirmed_until:
        events.append(ev.MatchEnded())
        match_over = True
    held = held_tier(hot, today, earned, state.lifetime_tier, None if match_over else state.match)
    if held != state.tier:
        events.append(
            ev.TierChanged(
                state.member_id,
                now,
                state.tier,
                held,
                cause,
                _tier_reason(state, program, held, earned, match_over),
            )
        )
    stage, _ = stage_of(state, hot, moment.ordinal, explain=False)
    # A StrEnum is its value: compared as a str, without the enum's `value` property (after
    # every input).
    if stage != state.stage:
        _, why = stage_of(state, hot, moment.ordinal)
        events.append(
            ev.StageChanged(state.member_id, now, state.stage, STAGE_VALUES[stage], cause, why)
        )
    horizon = moment.ordinal - 2 * hot.window_days
    oldest = oldest_activity(state)
    if oldest is not None and oldest < horizon:
        events.append(ev.ActivityPruned(horizon))
    return events


def _tier_reason(
    state: MemberState, program: Program, held: str, earned: str, match_over: bool
) -> str:
    if state.match is not None and not match_over and held == state.match.tier:
        return f"status match with {state.match.competitor}"
    if held == state.lifetime_tier:
        return "lifetime status"
    if program.hot.ranks[held] > program.hot.ranks[state.tier]:
        return f"qualified for {held}: {dict(sorted(state.period_qualifying.items()))}"
    if match_over:
        return f"status match ended; back to the earned tier {earned}"
    return f"requalification: {held} for the period from {state.period_start}"
