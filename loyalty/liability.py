"""The points liability at a date: outstanding points split by expiry month, tier and source;
breakage per cohort; and the deferred-revenue valuation (IFRS 15 style). Pure: it reads the
members' states and the `Accounts` kept beside the book (docs/liability.md has the method).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from loyalty.accounting import Accounts, month_of
from loyalty.calendar import add_months
from loyalty.program import ExpiryPolicy, Program
from loyalty.state import DEBT_LOT, MemberState

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def money(value: Decimal) -> Decimal:
    """Money in reports: to the cent, half up (stated, not left to a context default)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Breakage:
    rate: Decimal  # the rate applied to the outstanding balance
    method: str  # where the rate comes from, in words
    historical: Decimal | None  # expired / (expired + redeemed), None without any


def breakage(program: Program, accounts: Accounts) -> Breakage:
    """The expected share of outstanding points that will never be redeemed.

    From history, best first: over the resolved cohorts (months of issue with nothing left
    outstanding), expired / (issued - reversed - adjusted); with none resolved yet, of the
    points that left balances by redemption or expiry so far, the share that expired (an
    early, usually low estimate). A programme's own estimate (`valuation.expected_breakage`)
    takes precedence: management's estimate is what IFRS 15 asks for when history is thin."""
    cohorts = accounts.cohorts.values()
    resolved = [c for c in cohorts if c.issued and not c.outstanding]
    historical: Decimal | None = None
    method = "history: no points redeemed or expired yet"
    if resolved:
        base = sum(c.issued - c.reversed - c.adjusted for c in resolved)
        if base > 0:
            historical = Decimal(sum(c.expired for c in resolved)) / Decimal(base)
            method = f"history: {len(resolved)} resolved cohort(s)"
    if historical is None:
        expired = sum(c.expired for c in cohorts)
        spent = sum(c.spent for c in cohorts)
        if expired + spent:
            historical = Decimal(expired) / Decimal(expired + spent)
            method = "history: expired share of points redeemed or expired so far"
    if historical is not None:
        historical = historical.quantize(RATE, rounding=ROUND_HALF_UP)
    given = program.valuation.expected_breakage if program.valuation else None
    if given is not None:
        return Breakage(given, "programme valuation.expected_breakage", historical)
    return Breakage(historical or Decimal(0), method, historical)


def liability(
    program: Program, members: Iterable[MemberState], accounts: Accounts, as_of: date
) -> dict[str, Any]:
    points = program.currencies.points
    totals: Counter[str] = Counter()
    by_expiry: Counter[str] = Counter()
    by_tier: dict[str, Counter[str]] = {tier: Counter() for tier in program.tiers}
    by_source: Counter[str] = Counter()
    balances = 0
    for state in members:
        balances += state.balance
        tier = by_tier[state.tier]
        tier["members"] += 1
        for lot in state.lots:
            if lot.lot_id == DEBT_LOT or lot.remaining <= 0:
                continue
            state_of = "available" if lot.unlock_on <= as_of else "pending"
            totals[state_of] += lot.remaining
            tier[state_of] += lot.remaining
            by_expiry[_expiry_month(program, state, lot.expires_on)] += lot.remaining
        held = sum(h.points for h in state.held)
        totals["held"] += held
        tier["held"] += held
        totals["debt"] += state.debt
        tier["debt"] += state.debt
        for parts in accounts.by_source(state.member_id).values():
            by_source.update(parts)
    outstanding = totals["available"] + totals["pending"]
    rate = breakage(program, accounts)
    report: dict[str, Any] = {
        "program": program.name,
        "as_of": as_of.isoformat(),
        "currency": points,
        "outstanding": {
            "redeemable": outstanding,
            "available": totals["available"],
            "pending": totals["pending"],
            "held": totals["held"],
            "debt": totals["debt"],
        },
        "by_expiry_month": dict(sorted(by_expiry.items())),
        "expiry_basis": _expiry_basis(program),
        "by_tier": {
            tier: {k: c[k] for k in ("members", "available", "pending", "held", "debt")}
            for tier, c in by_tier.items()
        },
        "by_source": dict(sorted(by_source.items())),
        "cohorts": {
            month: {
                "issued": c.issued,
                "redeemed": c.spent,
                "expired": c.expired,
                "reversed": c.reversed,
                "adjusted": c.adjusted,
                "outstanding": c.outstanding,
                "breakage": _share(c.expired, c.issued - c.reversed - c.adjusted),
            }
            for month, c in sorted(accounts.cohorts.items())
        },
        "breakage": {
            "rate": str(rate.rate),
            "method": rate.method,
            "historical": None if rate.historical is None else str(rate.historical),
            "expected_to_expire": int(
                (outstanding * rate.rate).to_integral_value(rounding=ROUND_HALF_UP)
            ),
        },
        "reconciliation": {
            "ledger_total": accounts.balance,
            "balances_total": balances,
            "report_total": outstanding - totals["debt"],
            "by_source_total": sum(by_source.values()),
            "by_expiry_total": sum(by_expiry.values()),
        },
    }
    check = report["reconciliation"]
    # The ledger, the members' balances and the report agree to the point; the splits by
    # source and by expiry month each add up to the redeemable total.
    check["exact"] = (
        check["ledger_total"] == check["balances_total"] == check["report_total"]
        and check["by_source_total"] == check["by_expiry_total"] == outstanding
    )
    value = program.valuation
    if value is not None:
        gross = outstanding * value.value_per_point
        deferred = gross * (1 - rate.rate)
        report["valuation"] = {
            "currency": value.currency,
            "value_per_point": str(value.value_per_point),
            "outstanding_value": str(money(gross)),
            "expected_breakage_value": str(money(gross) - money(deferred)),
            "deferred_revenue": str(money(deferred)),
        }
    return report


def _expiry_month(program: Program, state: MemberState, lot_expiry: date | None) -> str:
    """When a lot's points expire if nothing else happens: its own expiry day, or under an
    inactivity policy the day the member's whole balance lapses without further activity."""
    expiry = program.expiry
    if expiry.policy is ExpiryPolicy.INACTIVITY and state.last_activity_on is not None:
        return month_of(add_months(state.last_activity_on, expiry.months))
    return "never" if lot_expiry is None else month_of(lot_expiry)


def _expiry_basis(program: Program) -> str:
    expiry = program.expiry
    if expiry.policy is ExpiryPolicy.INACTIVITY:
        return (
            f"the whole balance lapses {expiry.months} months after the member's last "
            "activity: the month it would if no activity follows"
        )
    if expiry.policy is ExpiryPolicy.AFTER_EARNING:
        return f"each lot expires {expiry.months} months after it was earned"
    return "points do not expire"


def _share(part: int, whole: int) -> str | None:
    if whole <= 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP))
