"""`loyalty whatif EVENTS.jsonl --baseline A.yaml --candidate B.yaml --out DIR [--as-of D]`:
the same history under two programmes, in one pass over the file (each input is decoded once
and handed to both books), compared for a loyalty manager and for finance.

Writes DIR/report.json (every figure) and DIR/report.html (one self-contained page: charts
drawn inline as SVG, the numbers under each chart). Each side's figures equal what `loyalty
replay` / `loyalty report liability` give for that programme alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from entrypoints.liability import liability_of
from entrypoints.observed import Observed, run_books
from loyalty.liability import money
from loyalty.program import Program
from loyalty.rejections import Code

TOP_MOVERS = 20


def _band(code: str | None) -> str:
    """The band part of a class code (`<segment>-<band>`); "-" when never graded."""
    return "-" if code is None else code.rsplit("-", 1)[-1]


def side(observed: Observed, as_of: date) -> dict[str, Any]:
    """One programme's figures over the history."""
    book, accounts = observed.book, observed.accounts
    program = book.program
    members = book.members.values()
    tiers = Counter(state.tier for state in members)
    bands = Counter(_band(state.class_code) for state in members)
    stages = Counter(state.stage for state in members)
    liability = liability_of(observed, as_of)
    return {
        "program": program.name,
        "members": len(book.members),
        "tiers": {tier: tiers.get(tier, 0) for tier in program.tiers},
        "class_bands": dict(sorted(bands.items())),
        "lifecycle_stages": dict(sorted(stages.items())),
        "earned_by_source": dict(sorted(accounts.earned.items())),
        "earned_total": sum(accounts.earned.values()),
        "debited_by_kind": dict(sorted(accounts.debits.items())),
        "expired": accounts.debits.get("expire", 0),
        "expired_by_month": dict(sorted(accounts.expired_by_month.items())),
        "redemptions_refused_for_points": observed.rejected.get(str(Code.INSUFFICIENT_POINTS), 0),
        "rejected_by_code": dict(sorted(observed.rejected.items())),
        "retention_rules_fired": dict(sorted(observed.rules.items())),
        "retention_offers": observed.rules.get("retention_offer", 0),
        "barriers": dict(sorted(observed.barriers.items())),
        "outstanding_by_month": dict(sorted(accounts.month_end.items())),
        "liability": liability,
    }


def movers(baseline: Observed, candidate: Observed) -> dict[str, Any]:
    """Members whose tier or class band differs between the two programmes."""
    a, b = baseline.book.members, candidate.book.members
    tier_pairs: Counter[tuple[str, str]] = Counter()
    band_pairs: Counter[tuple[str, str]] = Counter()
    moved: list[dict[str, Any]] = []
    for member_id in sorted(a.keys() & b.keys()):
        x, y = a[member_id], b[member_id]
        tier_moved, band_moved = x.tier != y.tier, _band(x.class_code) != _band(y.class_code)
        if tier_moved:
            tier_pairs[x.tier, y.tier] += 1
        if band_moved:
            band_pairs[_band(x.class_code), _band(y.class_code)] += 1
        if tier_moved or band_moved:
            moved.append(
                {
                    "member_id": member_id,
                    "tier": [x.tier, y.tier],
                    "class_band": [_band(x.class_code), _band(y.class_code)],
                    "balance": [x.balance, y.balance],
                    "points_difference": y.balance - x.balance,
                }
            )
    # Top movers by points: the largest balance differences among members who moved.
    moved.sort(key=lambda m: (-abs(m["points_difference"]), m["member_id"]))
    return {
        "members_moved": len(moved),
        "tier": [{"from": f, "to": t, "members": n} for (f, t), n in sorted(tier_pairs.items())],
        "class_band": [
            {"from": f, "to": t, "members": n} for (f, t), n in sorted(band_pairs.items())
        ],
        "top_by_points": moved[:TOP_MOVERS],
    }


def cost(baseline: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """What the candidate costs next to the baseline: points issued, points outstanding, and
    in money (each at its own programme's value per point, after expected breakage)."""
    out: dict[str, Any] = {
        "points_issued": candidate["earned_total"] - baseline["earned_total"],
        "points_expired": candidate["expired"] - baseline["expired"],
        "points_outstanding": candidate["liability"]["outstanding"]["redeemable"]
        - baseline["liability"]["outstanding"]["redeemable"],
    }
    a, b = baseline["liability"].get("valuation"), candidate["liability"].get("valuation")
    if a is not None and b is not None and a["currency"] == b["currency"]:
        out["currency"] = a["currency"]
        out["deferred_revenue"] = str(
            money(Decimal(b["deferred_revenue"]) - Decimal(a["deferred_revenue"]))
        )
        out["outstanding_value"] = str(
            money(Decimal(b["outstanding_value"]) - Decimal(a["outstanding_value"]))
        )
        issued_a = Decimal(baseline["earned_total"]) * Decimal(a["value_per_point"])
        issued_b = Decimal(candidate["earned_total"]) * Decimal(b["value_per_point"])
        out["points_issued_value"] = str(money(issued_b) - money(issued_a))
    else:
        out["money"] = "not comparable: both programmes need a valuation in one currency"
    return out


def whatif(
    events: Path,
    baseline: Program,
    candidate: Program,
    out: Path,
    as_of: date | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    from entrypoints.whatif_html import render

    run = run_books(events, [baseline, candidate], as_of, progress, label="what-if")
    a, b = (side(observed, run.as_of) for observed in run.books)
    report = {
        "events": str(events),
        "as_of": run.as_of.isoformat(),
        "lines": run.lines,
        "undecodable": run.undecodable,
        "after_as_of": run.after_as_of,
        "baseline": a,
        "candidate": b,
        "movers": movers(*run.books),
        "cost": cost(a, b),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
    (out / "report.html").write_text(render(report))
    return report


def headline(report: dict[str, Any]) -> str:
    a, b, c = report["baseline"], report["candidate"], report["cost"]
    lines = [
        f"what-if over {report['lines']:,} lines, as of {report['as_of']}: "
        f"{a['program']} (baseline) vs {b['program']} (candidate)",
        f"  tiers      {a['tiers']}",
        f"          -> {b['tiers']}",
        f"  members moved: {report['movers']['members_moved']:,}",
        f"  points issued {a['earned_total']:,} -> {b['earned_total']:,} ({c['points_issued']:+,})",
        f"  outstanding {a['liability']['outstanding']['redeemable']:,} -> "
        f"{b['liability']['outstanding']['redeemable']:,} ({c['points_outstanding']:+,})",
        f"  expired {a['expired']:,} -> {b['expired']:,}",
    ]
    if "deferred_revenue" in c:
        before = Decimal(a["liability"]["valuation"]["deferred_revenue"])
        after = Decimal(b["liability"]["valuation"]["deferred_revenue"])
        lines.append(
            f"  deferred revenue {before:,} -> {after:,} {c['currency']} "
            f"({Decimal(c['deferred_revenue']):+,} {c['currency']})"
        )
    return "\n".join(lines)
