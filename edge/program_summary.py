"""`loyalty program check P.yaml`: a programme validated (errors name field path and line, see
`edge.program_file`) and summarised for the people who own it: tiers with thresholds, earn
rates, expiry, transfers and barriers. Text meant to be read, not parsed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal

from loyalty.program import ExpiryPolicy, Program
from loyalty.program_status import Condition


def _num(value: Decimal | int) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else f"{value:,}"


_OUTCOME = {"reject": "rejected", "release": "released (credited)"}


def _limit(value: int | None) -> str:
    return "no limit" if value is None else _num(value)


def _per_tier(rates: dict[str, Decimal], tiers: tuple[str, ...]) -> str:
    return ", ".join(f"{tier} {_num(rates[tier])}" for tier in tiers if tier in rates)


def _tiers(program: Program) -> Iterator[str]:
    rules = program.tier_rules
    yield f"tiers (lowest first), qualifying per {rules.period.value.replace('_', ' ')}:"
    for tier in program.tiers:
        alternatives = rules.thresholds.get(tier, ())
        if not alternatives:
            yield f"  {tier:<10} base tier"
            continue
        asks = " or ".join(
            " + ".join(f"{_num(n)} {currency}" for currency, n in alt.items())
            for alt in alternatives
        )
        yield f"  {tier:<10} {asks}"
    extras = []
    if rules.soft_landing:
        extras.append("soft landing (at most one tier down per period)")
    if rules.rollover is not None:
        extras.append(f"rollover of {rules.rollover.currency} up to {_num(rules.rollover.cap)}")
    if rules.lifetime is not None:
        ways = []
        if rules.lifetime.periods is not None:
            ways.append(f"{rules.lifetime.periods} periods at {rules.lifetime.tier} or above")
        ways += [f"{_num(n)} {c} in total" for c, n in rules.lifetime.cumulative.items()]
        extras.append(f"lifetime {rules.lifetime.tier} after " + " or ".join(ways))
    for extra in extras:
        yield f"  {extra}"


def _earn(program: Program) -> Iterator[str]:
    earn, points = program.earn, program.currencies.points
    yield f"earning ({points}; amounts in {program.base_currency}):"
    if earn.purchases is not None:
        p = earn.purchases
        yield f"  purchases: {_per_tier(p.points_per_unit, program.tiers)} per unit"
        if p.category_multipliers:
            multipliers = ", ".join(f"{c} x{_num(m)}" for c, m in p.category_multipliers.items())
            yield f"    categories: {multipliers}"
        if p.max_points is not None:
            yield f"    at most {_num(p.max_points)} per purchase"
    if earn.flights is not None:
        for code, carrier in earn.flights.carriers.items():
            if carrier.points_per_unit:
                rate = f"{_per_tier(carrier.points_per_unit, program.tiers)} per unit of fare"
            else:
                rate = (
                    "miles flown x fare class multiplier "
                    f"(default x{_num(carrier.default_fare_class_multiplier)})"
                )
            minimum = (
                f", at least {_num(carrier.minimum_per_segment)} per segment"
                if carrier.minimum_per_segment
                else ""
            )
            yield f"  flights on {code}: {carrier.method.value}, {rate}{minimum}"
    for partner, rule in earn.partners.items():
        cap = f", daily cap {_num(rule.daily_cap)}" if rule.daily_cap is not None else ""
        yield f"  partner {partner}: {_num(rule.points_per_unit)} per unit{cap}"
    for promo in earn.promotions:
        yield (
            f"  promotion {promo.id}: x{_num(promo.multiplier)} on {', '.join(promo.applies_to)} "
            f"from {promo.starts_on} to {promo.ends_on}"
        )
    for name, bonus in (("welcome", earn.welcome_bonus), ("activation", earn.activation_bonus)):
        if bonus is not None:
            within = (
                f" (second purchase within {bonus.within_days} days)" if bonus.within_days else ""
            )
            yield f"  {name} bonus: {_num(bonus.points)}{within}"


def _expiry(program: Program) -> str:
    expiry = program.expiry
    if expiry.policy is ExpiryPolicy.NEVER:
        return "expiry: never"
    if expiry.policy is ExpiryPolicy.INACTIVITY:
        return f"expiry: the whole balance after {expiry.months} months without activity"
    return f"expiry: each lot {expiry.months} months after it was earned"


def _barriers(program: Program) -> Iterator[str]:
    t = program.transfers
    if not t.enabled:
        yield "transfers: disabled"
    else:
        limits = [f"tenure >= {t.min_tenure_days} days", f"min {_num(t.min_points)}"]
        if t.max_per_transfer is not None:
            limits.append(f"max {_num(t.max_per_transfer)} per transfer")
        if t.max_per_year is not None:
            limits.append(f"max {_num(t.max_per_year)} per year")
        limits.append(f"fee {_num(t.fee_percent)}% (min {_num(t.fee_minimum)})")
        yield "transfers: " + ", ".join(limits)
    if program.pending.days:
        sources = ", ".join(program.pending.applies_to)
        yield f"pending: {program.pending.days} days on {sources}"
    v = program.velocity
    if v.member_daily_points is not None or v.partner_daily_points is not None:
        yield (
            f"velocity holds above {_limit(v.member_daily_points)} a day per member, "
            f"{_limit(v.partner_daily_points)} per partner; undecided holds "
            f"{_OUTCOME[v.expired_holds]} after {v.hold_days} days"
        )
    if program.retention_rules:
        yield "retention rules:"
        for rule in program.retention_rules:
            yield f"  {rule.id}: {rule.action.value} when {_condition(rule.when)}"


def _condition(condition: Condition) -> str:
    parts = []
    for f in fields(condition):
        value = getattr(condition, f.name)
        if value is None or value == ():
            continue
        shown = "|".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        parts.append(f"{f.name}={shown}")
    return ", ".join(parts) or "always"


def summarize(program: Program) -> str:
    lines = [f"programme {program.name}: valid", ""]
    lines += _tiers(program)
    lines += [""]
    lines += _earn(program)
    lines += ["", _expiry(program)]
    lines += _barriers(program)
    if program.grading is not None:
        g = program.grading
        bands = ", ".join(f"{b.code} {_num(b.share * 100)}%" for b in g.bands)
        lines.append(
            f"grading: {g.metric} every {g.period_months} months within "
            f"{', '.join(g.segment_by) or 'one segment'}: {bands}"
        )
    lines.append(f"duplicate horizon: {program.windows.duplicate_horizon_days} days")
    value = program.valuation
    if value is None:
        lines.append("valuation: none (the liability report shows points only)")
    else:
        breakage = (
            "estimated from history"
            if value.expected_breakage is None
            else f"{_num(value.expected_breakage * 100)}% expected"
        )
        lines.append(
            f"valuation: {_num(value.value_per_point)} {value.currency} per point; "
            f"breakage {breakage}"
        )
    return "\n".join(lines) + "\n"
