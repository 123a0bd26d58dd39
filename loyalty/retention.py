"""Transfer barriers: the programme's declarative retention rules (condition -> action).

Built-in conditions (all given ones must hold): `tier_at_least`, `tier_at_most`, `stage_in`,
`balance_at_least`, `tenure_days_at_least`, `periods_at_tier_at_least` (periods ended at
`tier_at_least` or above), `activity_drop_percent_at_least` (latest activity window against
the previous), `inactive_days_at_least`. Actions: `flag` (barrier_triggered),
`retention_offer` (retention_offer_issued), `restrict_transfers` (outbound transfers above
`max_transfer` are rejected with `transfer_restricted` while the condition holds).
A rule fires when its condition holds and it has not fired within `cooldown_days`.
"""

from __future__ import annotations

from datetime import date, datetime

from loyalty import events as ev
from loyalty.calendar import day_of
from loyalty.hot import Hot, RuleCheck
from loyalty.lifecycle import drop_percent, window_counts
from loyalty.program import Program
from loyalty.program_status import Condition, RetentionRule, RuleAction
from loyalty.rejections import Code, Rejected
from loyalty.state import MemberState, activity_counts


def holds(condition: Condition, state: MemberState, program: Program, now: datetime) -> bool:
    # A conjunction: the cheap tests first (stage, then tier), the costly ones (balance sums
    # the lots, the activity drop counts windows) last. Evaluated for every rule after every
    # input, so the order matters (~5 calls per input on the bench workload).
    if condition.stage_in and state.stage not in condition.stage_in:
        return False
    if condition.tier_at_least is not None or condition.tier_at_most is not None:
        ranks = program.hot.ranks
        rank = ranks[state.tier]
        if condition.tier_at_least is not None and rank < ranks[condition.tier_at_least]:
            return False
        if condition.tier_at_most is not None and rank > ranks[condition.tier_at_most]:
            return False
    today = day_of(now)
    if (
        condition.tenure_days_at_least is not None
        and (today - state.enrolled_on).days < condition.tenure_days_at_least
    ):
        return False
    if condition.inactive_days_at_least is not None:
        idle = (today - (state.last_activity_on or state.enrolled_on)).days
        if idle < condition.inactive_days_at_least:
            return False
    if condition.periods_at_tier_at_least is not None:
        tier = condition.tier_at_least or program.hot.base_tier
        if state.periods_at.get(tier, 0) < condition.periods_at_tier_at_least:
            return False
    if condition.balance_at_least is not None and state.balance < condition.balance_at_least:
        return False
    if condition.activity_drop_percent_at_least is not None:
        latest, previous = window_counts(state, program, today)
        if drop_percent(latest, previous) < condition.activity_drop_percent_at_least:
            return False
    return True


def decide_rules(
    state: MemberState,
    program: Program,
    hot: Hot,
    now: datetime,
    cause: str,
    input_type: str | None,
) -> list[ev.DomainEvent]:
    """`hot` is `program.hot`, passed by the book: read from `program`, it is a generic
    attribute lookup (~250 instructions), and this runs after every input."""
    events: list[ev.DomainEvent] = []
    checks = hot.rule_checks
    if not checks:
        return events
    today = day_of(now)
    rank = hot.ranks[state.tier]
    stage = state.stage
    # The screens are `holds`' first tests, precompiled: most rules stop there for most
    # members, without reading the programme's objects.
    for check in checks:
        if check.only_after and input_type not in check.only_after:
            continue
        if check.stages and stage not in check.stages:
            continue
        if rank < check.least or rank > check.most:
            continue
        last = state.rules_fired.get(check.rule_id)
        if last is not None and (today - last).days < check.cooldown_days:
            continue
        if not _rest_holds(check, state, hot.window_days, today):
            continue
        rule = check.rule
        events.append(
            ev.RuleFired(
                state.member_id,
                now,
                rule.id,
                rule.action.value,
                rule.offer,
                cause,
                _describe(rule, state),
            )
        )
    return events


def _rest_holds(check: RuleCheck, state: MemberState, window: int, today: date) -> bool:
    """`holds` past the screened tests (stage and tier), from the check's native values."""
    if check.tenure_days is not None and (today - state.enrolled_on).days < check.tenure_days:
        return False
    if check.inactive_days is not None:
        idle = (today - (state.last_activity_on or state.enrolled_on)).days
        if idle < check.inactive_days:
            return False
    if check.periods is not None and state.periods_at.get(check.periods_tier, 0) < check.periods:
        return False
    if check.balance is not None and state.balance < check.balance:
        return False
    if check.drop_percent is not None:
        latest, previous = activity_counts(state, today.toordinal(), window)
        if drop_percent(latest, previous) < check.drop_percent:
            return False
    return True


def _describe(rule: RetentionRule, state: MemberState) -> str:
    what = {
        RuleAction.FLAG: "flagged",
        RuleAction.RETENTION_OFFER: f"offer {rule.offer}",
        RuleAction.RESTRICT_TRANSFERS: "outbound transfers restricted",
    }[rule.action]
    return (
        f"rule {rule.id}: {what} (tier {state.tier}, stage {state.stage}, balance {state.balance})"
    )


def check_transfer_allowed(
    state: MemberState, program: Program, now: datetime, points: int
) -> None:
    for rule in program.retention_rules:
        if (
            rule.action is RuleAction.RESTRICT_TRANSFERS
            and points > rule.max_transfer
            and holds(rule.when, state, program, now)
        ):
            raise Rejected(
                Code.TRANSFER_RESTRICTED,
                f"retention rule {rule.id} limits outbound transfers to {rule.max_transfer} points",
            )
