"""`loyalty report liability EVENTS.jsonl --program P.yaml [--as-of DATE] --out DIR`: the
points liability at a date (docs/liability.md), as JSON and as a table finance can read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from entrypoints.observed import Observed, Run, run_books
from loyalty.liability import liability
from loyalty.program import Program


def liability_of(observed: Observed, as_of: date) -> dict[str, Any]:
    book = observed.book
    report = liability(book.program, book.members.values(), observed.accounts, as_of)
    mismatched = observed.accounts.reconcile(book.members.values())
    check = report["reconciliation"]
    check["postings_total"] = observed.ledger_total
    check["source_mismatches"] = len(mismatched)
    check["exact"] = (
        check["exact"] and not mismatched and observed.ledger_total == check["ledger_total"]
    )
    report["history"] = {
        "inputs": observed.received,
        **{k: observed.outcomes.get(k, 0) for k in ("applied", "duplicate", "rejected")},
        "earned_by_source": dict(sorted(observed.accounts.earned.items())),
        "debited_by_kind": dict(sorted(observed.accounts.debits.items())),
        "outstanding_by_month": dict(sorted(observed.accounts.month_end.items())),
    }
    return report


def table(report: dict[str, Any]) -> str:
    o = report["outstanding"]
    unit = report["currency"]
    lines = [
        f"points liability of {report['program']} at the end of {report['as_of']} ({unit})",
        "",
        f"  redeemable {o['redeemable']:>14,}  (available {o['available']:,}, "
        f"pending {o['pending']:,})",
        f"  held       {o['held']:>14,}  (velocity holds, not yet credited)",
        f"  debt       {o['debt']:>14,}  (owed by members after reversals)",
        "",
        "by tier:      members      available        pending           held",
    ]
    for tier, row in report["by_tier"].items():
        lines.append(
            f"  {tier:<10} {row['members']:>9,} {row['available']:>14,} "
            f"{row['pending']:>14,} {row['held']:>14,}"
        )
    lines += ["", "by source:"]
    lines += [f"  {s:<12} {n:>14,}" for s, n in report["by_source"].items()]
    lines += ["", f"by expiry month ({report['expiry_basis']}):"]
    lines += [f"  {m:<12} {n:>14,}" for m, n in report["by_expiry_month"].items()]
    lines += [
        "",
        "cohorts (month of issue):  issued   redeemed    expired   reversed  outstanding  breakage",
    ]
    for month, c in report["cohorts"].items():
        rate = "-" if c["breakage"] is None else f"{float(c['breakage']):.2%}"
        lines.append(
            f"  {month:<20} {c['issued']:>10,} {c['redeemed']:>10,} {c['expired']:>10,} "
            f"{c['reversed']:>10,} {c['outstanding']:>12,} {rate:>9}"
        )
    b = report["breakage"]
    historical = "none yet" if b["historical"] is None else f"{float(b['historical']):.2%}"
    lines += [
        "",
        f"breakage applied: {float(b['rate']):.2%} ({b['method']}; from history: {historical}); "
        f"{b['expected_to_expire']:,} {unit} expected never to be redeemed",
    ]
    v = report.get("valuation")
    if v is None:
        lines.append("valuation: none in the programme (add a `valuation` section)")
    else:
        lines += [
            f"valuation at {v['value_per_point']} {v['currency']} per point:",
            f"  outstanding value          {_money(v['outstanding_value'])} {v['currency']}",
            f"  less expected breakage     {_money(v['expected_breakage_value'])} {v['currency']}",
            f"  deferred revenue (IFRS 15) {_money(v['deferred_revenue'])} {v['currency']}",
        ]
    check = report["reconciliation"]
    lines += [
        "",
        f"reconciliation: ledger {check['ledger_total']:,} = balances "
        f"{check['balances_total']:,} = report {check['report_total']:,}: "
        + ("exact" if check["exact"] else "MISMATCH"),
    ]
    return "\n".join(lines)


def _money(text: str) -> str:
    return f"{Decimal(text):>16,}"


def report_liability(
    program: Program, events: Path, out: Path, as_of: date | None = None
) -> tuple[str, dict[str, Any], Run]:
    run = run_books(events, [program], as_of, label="liability")
    report = liability_of(run.books[0], run.as_of)
    report["history"]["lines"] = run.lines
    report["history"]["undecodable"] = run.undecodable
    report["history"]["after_as_of"] = run.after_as_of
    text = table(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "liability.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
    (out / "liability.txt").write_text(text + "\n")
    return text, report, run
