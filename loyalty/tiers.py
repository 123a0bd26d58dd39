"""Tiers: qualification periods, immediate upgrades, requalification at period end with soft
landing, rollover and lifetime status.

Upgrades take effect on the event that crosses a threshold; that event still earns at the tier
held when it occurred (its points are decided before its qualifying credit is counted).
Downgrades happen only at period end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from loyalty import events as ev
from loyalty.calendar import add_months, start_of
from loyalty.hot import Hot
from loyalty.program import Program
from loyalty.state import Match, MemberState


def period_containing(program: Program, enrolled_on: date, day: date) -> tuple[date, date]:
    """(first day, last day) of the qualification period that contains `day`."""
    if program.hot.calendar_year:  # one generic lookup, where the rules' field is two
        return date(day.year, 1, 1), date(day.year, 12, 31)
    years = day.year - enrolled_on.year
    start = add_months(enrolled_on, 12 * years)
    if start > day:
        start = add_months(enrolled_on, 12 * (years - 1))
    return start, add_months(start, 12) - timedelta(days=1)


def qualified_tier(hot: Hot, credit: dict[str, int], above: str | None = None) -> str:
    """The highest tier any of whose alternatives `credit` meets in full (only tiers above
    `above` are checked; `above` itself is returned when none of them is met). `hot`: the
    programme's compiled view (`Program.hot`)."""
    floor = hot.ranks[above] if above is not None else 0
    gate = hot.upgrade_gates[floor]
    if gate is not None:
        for currency, least in gate:
            if credit.get(currency, 0) >= least:
                break
        else:  # every alternative above fails on its first condition
            return hot.tiers[floor]
    for rank, tier, alternatives in hot.tier_checks:  # highest tier first
        if rank <= floor:
            break
        for alternative in alternatives:
            for currency, minimum in alternative:
                if credit.get(currency, 0) < minimum:
                    break
            else:
                return tier
    return hot.tiers[floor]


def _threshold(program: Program, tier: str, currency: str) -> int:
    """What `tier` asks of `currency` at the least (0 for the base tier or if not asked)."""
    asks = [alt[currency] for alt in program.tier_rules.thresholds.get(tier, ()) if currency in alt]
    return min(asks) if asks else 0


def decide_period_end(
    state: MemberState, program: Program, now: datetime, cause: str
) -> list[ev.DomainEvent]:
    """Close every period that ended before `now` (several if the member slept through them)."""
    assert state.period_end is not None and state.period_start is not None
    rules = program.tier_rules
    events: list[ev.DomainEvent] = []
    earned, credit = state.earned_tier, dict(state.period_qualifying)
    periods_at = dict(state.periods_at)
    lifetime = state.lifetime_tier
    totals = state.qualifying
    end = state.period_end
    while end < now.date():
        closed_at = start_of(end + timedelta(days=1))
        qualified = qualified_tier(program.hot, credit)
        kept = qualified
        if rules.soft_landing and program.hot.ranks[qualified] < program.hot.ranks[earned] - 1:
            kept = program.hot.tiers[program.hot.ranks[earned] - 1]
            events.append(
                ev.BarrierApplied(
                    state.member_id,
                    closed_at,
                    "soft_landing",
                    cause,
                    f"requalified for {qualified} only; soft landing keeps {kept} (one tier down "
                    f"from {earned})",
                )
            )
        counted = program.hot.tiers[: program.hot.ranks[earned] + 1]
        for tier in counted:
            periods_at[tier] = periods_at.get(tier, 0) + 1
        new_lifetime = _lifetime(program, periods_at, totals, lifetime)
        if new_lifetime != lifetime and new_lifetime is not None:
            events.append(
                ev.BarrierApplied(
                    state.member_id,
                    closed_at,
                    "lifetime_status",
                    cause,
                    f"lifetime {new_lifetime} status reached",
                )
            )
            lifetime = new_lifetime
        events.append(ev.PeriodClosed(kept, tuple(counted), lifetime))
        rollover: dict[str, int] = {}
        # Surplus is credit above the threshold of the tier kept. The base tier has no
        # threshold: "surplus" there would be all credit, rolled again every period forever.
        if rules.rollover is not None and kept != program.hot.base_tier:
            currency = rules.rollover.currency
            surplus = credit.get(currency, 0) - _threshold(program, kept, currency)
            carried = max(0, min(surplus, rules.rollover.cap))
            if carried:
                rollover[currency] = carried
                events.append(
                    ev.BarrierApplied(
                        state.member_id,
                        closed_at,
                        "rollover",
                        cause,
                        f"{carried} {currency} above the {kept} threshold rolled into the next "
                        f"period",
                    )
                )
        start = end + timedelta(days=1)
        _, end = period_containing(program, state.enrolled_on, start)
        events.append(ev.PeriodOpened(start, end, rollover))
        earned, credit = kept, dict(rollover)
    return events


def _lifetime(
    program: Program, periods_at: dict[str, int], totals: dict[str, int], current: str | None
) -> str | None:
    rule = program.tier_rules.lifetime
    if rule is None or current is not None:
        return current
    if rule.periods is not None and periods_at.get(rule.tier, 0) >= rule.periods:
        return rule.tier
    if any(totals.get(c, 0) >= minimum for c, minimum in rule.cumulative.items()):
        return rule.tier
    return current


def held_tier(hot: Hot, today: date, earned: str, lifetime: str | None, match: Match | None) -> str:
    """The tier a member holds: the best of earned, lifetime and a live status match."""
    if not lifetime and match is None:  # most members, after every event: nothing to compare
        return earned
    candidates = [earned]
    if lifetime:
        candidates.append(lifetime)
    if match is not None and (match.confirmed_until or match.ends_on) >= today:
        candidates.append(match.tier)
    return max(candidates, key=hot.ranks.__getitem__)
