"""Building blocks shared by the decisions: postings into and out of lots, and the daily gates
(partner caps, velocity holds) every accrual passes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from loyalty import events as ev
from loyalty.calendar import Moment, add_months, day_at, day_of, iso_day, moment_of
from loyalty.hot import Hot
from loyalty.lots import fifo_draws, lot_id
from loyalty.program import Program
from loyalty.state import DEBT_LOT, Hold, Lot, MemberState, Posting, as_of_moment


def earning_day(state: MemberState, at: datetime) -> date:
    """Points are earned on the event's day, or on the member's current day for a late event:
    a lot is never born already expired, which keeps expiry postings unique per lot."""
    return earning_moment(state, at).day


def earning_moment(state: MemberState, at: datetime) -> Moment:
    """`earning_day` with its ordinal: compared as day ordinals (native ints), not dates (a
    generic call from compiled code)."""
    moment = moment_of(at)
    current = as_of_moment(state)
    return moment if moment.ordinal >= current.ordinal else current


def credit(
    state: MemberState,
    program: Program,
    cause: str,
    kind: str,
    points: int,
    at: datetime,
    source: str,
    reason: str | None = None,
    operator_id: str | None = None,
    promotion: int = 0,
) -> ev.PointsCredited:
    """Points into a lot. `source` is where they came from (purchase, flight, partner, transfer,
    adjustment; bonus kinds are recorded as "bonus"), `promotion` the share a promotion added."""
    hot = program.hot
    earning = earning_moment(state, at)
    earned_on = earning.day
    unlock_on = earned_on
    if hot.pending_days and source in hot.pending_sources:
        # By ordinal, to the one object per day (`day_at`): the lot id's memo is keyed by it.
        unlock_on = day_at(earning.ordinal + hot.pending_days)
    expires_on = None
    if hot.expires_after_earning:
        expires_on = add_months(earned_on, hot.expiry_months)
    posting = Posting(
        f"{cause}/{kind}",
        state.member_id,
        at,
        hot.points,
        points,
        kind,
        cause,
        lot_id(earned_on, unlock_on, expires_on),
        reason=reason,
        operator_id=operator_id,
    )
    origin = "bonus" if kind.startswith("bonus") else source
    return ev.PointsCredited(
        posting, earned_on, unlock_on, expires_on, origin, min(promotion, points)
    )


def debit(
    state: MemberState,
    program: Program,
    cause: str,
    kind: str,
    points: int,
    at: datetime,
    lots: list[Lot],
    allow_debt: bool = False,
    reason: str | None = None,
    operator_id: str | None = None,
) -> ev.PointsDebited:
    """Take `points` from `lots` in order; the caller has checked there are enough unless
    `allow_debt` (reversals of points already spent)."""
    draws, short = fifo_draws(lots, points)
    if short and not allow_debt:
        raise ValueError(f"debit of {points} from lots holding only {points - short}")
    return debit_from(state, program, cause, kind, points, at, draws, short, reason, operator_id)


def debit_from(
    state: MemberState,
    program: Program,
    cause: str,
    kind: str,
    points: int,
    at: datetime,
    draws: tuple[tuple[str, int], ...],
    to_debt: int = 0,
    reason: str | None = None,
    operator_id: str | None = None,
) -> ev.PointsDebited:
    """A debit whose draws were already planned (draws + `to_debt` add up to `points`). The
    posting lists every lot it took from, debt included, so the audit trail is complete."""
    touched = (*draws, (DEBT_LOT, to_debt)) if to_debt else draws
    posting = Posting(
        f"{cause}/{kind}",
        state.member_id,
        at,
        program.currencies.points,
        -points,
        kind,
        cause,
        touched[0][0] if len(touched) == 1 else None,
        touched,
        reason,
        operator_id,
    )
    return ev.PointsDebited(posting, draws, to_debt)


def qualifying(
    state: MemberState, cause: str, kind: str, credits: dict[str, int], at: datetime, sign: int = 1
) -> list[ev.QualifyingCredited]:
    return [
        ev.QualifyingCredited(
            Posting(
                f"{cause}/{kind}/{currency}",
                state.member_id,
                at,
                currency,
                sign * amount,
                kind,
                cause,
            )
        )
        # Currency order; one currency (most credits) needs no sort.
        for currency, amount in (sorted(credits.items()) if len(credits) > 1 else credits.items())
        if amount
    ]


def held_currency(program: Program) -> str:
    return f"{program.currencies.points}_held"


def hold_events(
    state: MemberState, program: Program, hold: Hold, cause: str
) -> list[ev.DomainEvent]:
    posting = Posting(
        f"{cause}/hold",
        state.member_id,
        hold.at,
        held_currency(program),
        hold.points,
        "hold",
        cause,
        reason=hold.reason,
    )
    return [ev.AccrualHeld(state.member_id, hold, posting)]


def new_hold(
    program: Program, cause: str, at: datetime, source: str, points: int, reason: str
) -> Hold:
    expires_on = at.date() + timedelta(days=program.velocity.hold_days)
    return Hold(f"{cause}/hold", at, source, points, reason, None, expires_on)


class Gate:
    """What the daily gate lets through (never copied or compared: a plain class, which
    compiles to a native one; a frozen dataclass's generated `__init__` stays interpreted)."""

    __slots__ = ("events", "points")

    def __init__(self, points: int, events: list[ev.DomainEvent]) -> None:
        self.points = points  # to credit now
        self.events = events  # holds, alerts and the daily counters


def daily_gate(
    state: MemberState,
    program: Program,
    cause: str,
    at: datetime,
    points: int,
    source: str,
    partner_id: str | None = None,
    partner_cap: int | None = None,
    ref: str | None = None,
) -> Gate:
    """Apply the partner's daily cap (excess forfeited) and the velocity limits (the whole
    accrual held for review, not credited, with an alert)."""
    day = day_of(at)
    key = iso_day(day)
    events: list[ev.DomainEvent] = []
    partner_today = state.day_totals.get(f"{key}|{partner_id}", 0) if partner_id else 0
    if partner_cap is not None:
        allowed = max(0, partner_cap - partner_today)
        if points > allowed:
            events.append(
                ev.AlertRaised(
                    state.member_id,
                    at,
                    "partner_daily_cap_reached",
                    f"{points - allowed} points above the daily cap of "
                    f"{partner_cap} from {partner_id} not credited",
                    cause,
                )
            )
            points = allowed
    reason = velocity_exceeded(state, program.hot, key, points, partner_id, partner_today)
    if reason is not None:
        hold = new_hold(program, cause, at, source, points, reason)
        hold.ref = ref
        events += hold_events(state, program, hold, cause)
        events.append(
            ev.AlertRaised(
                state.member_id,
                at,
                "velocity_limit_exceeded",
                f"{points} points held: {reason}",
                cause,
            )
        )
        return Gate(0, events)
    if points:
        events.append(ev.DailyAccrualCounted(day, partner_id, points))
    return Gate(points, events)


def velocity_exceeded(
    state: MemberState,
    hot: Hot,
    day: str,
    points: int,
    partner_id: str | None = None,
    partner_today: int = 0,
) -> str | None:
    """Which velocity limit `points` more on `day` (ISO) would exceed, or None."""
    if not points:
        return None
    member_limit = hot.member_daily_points
    if member_limit is not None and state.day_totals.get(f"{day}|*", 0) + points > member_limit:
        return f"member daily limit {member_limit} exceeded"
    partner_limit = hot.partner_daily_points
    if partner_id and partner_limit is not None and partner_today + points > partner_limit:
        return f"daily limit {partner_limit} for partner {partner_id} exceeded"
    return None
