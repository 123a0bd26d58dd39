"""Decisions on member commands: enrol, redeem, transfer, status match, manual adjustment."""

from __future__ import annotations

from datetime import datetime, timedelta

from loyalty import events as ev
from loyalty.calendar import add_months
from loyalty.crediting import credit, debit, debit_from, earning_day
from loyalty.inputs import (
    Enrol,
    ManualAdjustment,
    Redeem,
    StatusMatchRequest,
    TransferPoints,
    TransferReceived,
    TransferReturned,
)
from loyalty.lots import available_lots, fifo_draws, split_draws
from loyalty.program import Program
from loyalty.rejections import Code, Rejected
from loyalty.retention import check_transfer_allowed
from loyalty.rounding import to_points
from loyalty.state import Match, MemberState
from loyalty.tiers import period_containing


def decide_enrol(state: MemberState | None, e: Enrol, program: Program) -> list[ev.DomainEvent]:
    if state is not None:
        raise Rejected(Code.ALREADY_ENROLLED, f"member {e.member_id} is already enrolled")
    start, end = period_containing(program, e.enrolled_on, e.at.date())
    return [
        ev.Enrolled(e.member_id, e.at, e.enrolled_on, program.hot.base_tier, e.attributes),
        ev.PeriodOpened(start, end, {}),
    ]


def _check_available(state: MemberState, points: int, what: str, at: datetime) -> None:
    available = state.available(earning_day(state, at))
    if points > available:
        raise Rejected(
            Code.INSUFFICIENT_POINTS, f"{what} needs {points} points, {available} are available"
        )


def decide_redeem(state: MemberState, r: Redeem, program: Program) -> list[ev.DomainEvent]:
    if r.points <= 0:
        raise Rejected(Code.INVALID_AMOUNT, "a redemption needs a positive number of points")
    _check_available(state, r.points, f"redemption {r.reward}", r.at)
    return [
        debit(
            state,
            program,
            r.event_id,
            "redeem",
            r.points,
            r.at,
            available_lots(state, earning_day(state, r.at)),
        ),
        ev.ActivityRecorded(earning_day(state, r.at)),
    ]


def transfer_fee(program: Program, points: int) -> int:
    rule = program.transfers
    return max(rule.fee_minimum, to_points(points * rule.fee_percent / 100))


def decide_transfer(
    state: MemberState, t: TransferPoints, program: Program
) -> list[ev.DomainEvent]:
    rule = program.transfers
    if not rule.enabled:
        raise Rejected(Code.TRANSFERS_DISABLED, f"{program.name} does not allow transfers")
    if t.to_member_id == t.member_id:
        raise Rejected(Code.TRANSFER_TO_SELF, "a member cannot send to itself")
    tenure = (t.at.date() - state.enrolled_on).days
    if tenure < rule.min_tenure_days:
        raise Rejected(
            Code.TRANSFER_UNDER_TENURE,
            f"member for {tenure} days; transfers need {rule.min_tenure_days}",
        )
    if t.points < rule.min_points:
        raise Rejected(
            Code.TRANSFER_BELOW_MINIMUM,
            f"{t.points} points is below the minimum transfer of {rule.min_points}",
        )
    if rule.max_per_transfer is not None and t.points > rule.max_per_transfer:
        raise Rejected(
            Code.TRANSFER_OVER_CAP,
            f"{t.points} points is above the cap of {rule.max_per_transfer} per transfer",
        )
    year = t.at.year
    if rule.max_per_year is not None:
        sent = state.transfers_out.get(year, 0)
        if sent + t.points > rule.max_per_year:
            raise Rejected(
                Code.TRANSFER_OVER_YEARLY_CAP,
                f"{sent} points already sent in {year}; the yearly cap is {rule.max_per_year}",
            )
    check_transfer_allowed(state, program, t.at, t.points)
    fee = transfer_fee(program, t.points)
    _check_available(state, t.points + fee, f"transfer of {t.points} + fee {fee}", t.at)
    lots = available_lots(state, earning_day(state, t.at))
    draws, _ = fifo_draws(lots, t.points + fee)
    # One FIFO pass for points + fee; the first `points` are the transfer, the rest the fee.
    out_draws, fee_draws = split_draws(draws, t.points)
    events: list[ev.DomainEvent] = [
        debit_from(state, program, t.event_id, "transfer_out", t.points, t.at, out_draws)
    ]
    if fee:
        events.append(debit_from(state, program, t.event_id, "transfer_fee", fee, t.at, fee_draws))
    follow_up = TransferReceived(
        f"{t.event_id}/in", t.to_member_id, t.at, t.member_id, t.event_id, t.points, fee
    )
    events += [
        ev.TransferSent(year, t.points, t.event_id),
        ev.FollowUpIssued(follow_up),
        ev.ActivityRecorded(earning_day(state, t.at)),
    ]
    return events


def decide_transfer_received(
    state: MemberState | None, t: TransferReceived, program: Program
) -> list[ev.DomainEvent]:
    if state is None:
        # The sender's partition could not know; the points (and fee) go back to the sender.
        back = TransferReturned(
            f"{t.transfer_id}/returned",
            t.from_member_id,
            t.at,
            t.transfer_id,
            t.points + t.fee,
            f"recipient {t.member_id} is not a member",
        )
        return [ev.FollowUpIssued(back)]
    return [
        credit(state, program, t.transfer_id, "transfer_in", t.points, t.at, "transfer"),
        ev.ActivityRecorded(earning_day(state, t.at)),
    ]


def decide_transfer_returned(
    state: MemberState, t: TransferReturned, program: Program
) -> list[ev.DomainEvent]:
    return [
        credit(state, program, t.transfer_id, "transfer_return", t.points, t.at, "transfer"),
        ev.AlertRaised(state.member_id, t.at, "transfer_returned", t.reason, t.transfer_id),
    ]


def decide_status_match(
    state: MemberState, s: StatusMatchRequest, program: Program
) -> list[ev.DomainEvent]:
    rules = program.status_match
    if rules is None:
        raise Rejected(Code.STATUS_MATCH_UNAVAILABLE, f"{program.name} offers no status match")
    mapping = rules.programmes.get(s.competitor)
    if mapping is None:
        raise Rejected(Code.UNKNOWN_COMPETITOR, f"no status match with {s.competitor}")
    tier = mapping.get(s.competitor_tier)
    if tier is None:
        raise Rejected(
            Code.UNKNOWN_COMPETITOR_TIER, f"{s.competitor} tier {s.competitor_tier} is not matched"
        )
    today = earning_day(state, s.at)
    if state.last_match_on is not None:
        again = add_months(state.last_match_on, 12 * rules.once_every_years)
        if today < again:
            raise Rejected(
                Code.MATCH_TOO_RECENT,
                f"last status match on {state.last_match_on}; the next one from {again}",
            )
    if program.hot.ranks[state.tier] >= program.hot.ranks[tier]:
        raise Rejected(
            Code.ALREADY_AT_TIER,
            f"member already holds {state.tier}, at or above the matched {tier}",
        )
    ends_on = today + timedelta(days=rules.challenge_days - 1)
    match = Match(s.event_id, s.competitor, tier, today, ends_on, dict(rules.target))
    return [
        ev.MatchGranted(
            state.member_id,
            s.at,
            match,
            state.tier,
            s.event_id,
            f"{s.competitor} {s.competitor_tier} (evidence {s.evidence_ref}): "
            f"{tier} until {ends_on} unless {dict(rules.target)} is earned",
        )
    ]


def decide_adjustment(
    state: MemberState, a: ManualAdjustment, program: Program
) -> list[ev.DomainEvent]:
    if not bool(a.reason.strip()):
        raise Rejected(Code.REASON_REQUIRED, "a manual adjustment needs a reason")
    if not bool(a.operator_id.strip()):
        raise Rejected(Code.OPERATOR_REQUIRED, "a manual adjustment needs the operator who made it")
    if a.points == 0:
        raise Rejected(Code.INVALID_AMOUNT, "an adjustment of 0 points changes nothing")
    audit = ev.PointsAdjusted(state.member_id, a.at, a.points, a.event_id, a.reason, a.operator_id)
    if a.points > 0:
        return [
            credit(
                state,
                program,
                a.event_id,
                "adjust",
                a.points,
                a.at,
                "adjustment",
                a.reason,
                a.operator_id,
            ),
            audit,
        ]
    _check_available(state, -a.points, "negative adjustment", a.at)
    lots = available_lots(state, earning_day(state, a.at))
    return [
        debit(
            state,
            program,
            a.event_id,
            "adjust",
            -a.points,
            a.at,
            lots,
            reason=a.reason,
            operator_id=a.operator_id,
        ),
        audit,
    ]
