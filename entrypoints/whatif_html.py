"""The what-if report as one self-contained HTML page: no script, no network; charts are
inline SVG drawn here, each followed by the numbers it shows."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

BASE, CAND = "#5b6b7f", "#e07b39"  # baseline slate, candidate orange
WIDTH = 760


def _n(value: int | float) -> str:
    return f"{value:,}"


def _delta(value: int) -> str:
    cls = "up" if value > 0 else "down" if value < 0 else ""
    return f'<span class="{cls}">{value:+,}</span>'


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _short(value: float) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}"


def _frame(height: int, left: int, top: int, plot_h: int, peak: float) -> list[str]:
    """An SVG's opening tag, horizontal grid lines and the value axis (quarters of `peak`)."""
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" role="img" class="chart">']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - 20}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{_short(peak * i / 4)}</text>"
        )
    return parts


def grouped_bars(categories: list[str], series: list[tuple[str, str, list[int]]]) -> str:
    height, left, bottom, top = 300, 70, 40, 20
    plot_w, plot_h = WIDTH - left - 20, height - bottom - top
    peak = _nice_max(max((v for _, _, values in series for v in values), default=0))
    group = plot_w / max(len(categories), 1)
    bar = min(group * 0.8 / len(series), 60)
    parts = _frame(height, left, top, plot_h, peak)
    for c, category in enumerate(categories):
        x0 = left + group * c + (group - bar * len(series)) / 2
        for s, (name, color, values) in enumerate(series):
            h = plot_h * values[c] / peak
            x = x0 + s * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 2:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(name)} {escape(category)}: '
                f"{_n(values[c])}</title></rect>"
            )
            parts.append(
                f'<text x="{x + (bar - 2) / 2:.1f}" y="{top + plot_h - h - 4:.1f}" '
                f'class="value" text-anchor="middle">{_short(values[c])}</text>'
            )
        parts.append(
            f'<text x="{left + group * (c + 0.5):.1f}" y="{height - bottom + 18}" '
            f'class="label" text-anchor="middle">{escape(category)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(months: list[str], series: list[tuple[str, str, list[int]]]) -> str:
    height, left, bottom, top = 300, 70, 40, 20
    plot_w, plot_h = WIDTH - left - 50, height - bottom - top  # room for the last month label
    peak = _nice_max(max((v for _, _, values in series for v in values), default=0))
    step = plot_w / max(len(months) - 1, 1)
    parts = _frame(height, left, top, plot_h, peak)
    every = max(1, len(months) // 12)
    for m, month in enumerate(months):
        if m % every == 0 or m == len(months) - 1:
            parts.append(
                f'<text x="{left + step * m:.1f}" y="{height - bottom + 18}" class="label" '
                f'text-anchor="middle">{escape(month)}</text>'
            )
    for name, color, values in series:
        points = " ".join(
            f"{left + step * m:.1f},{top + plot_h - plot_h * v / peak:.1f}"
            for m, v in enumerate(values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2.5"/>'
        )
        for m, v in enumerate(values):
            parts.append(
                f'<circle cx="{left + step * m:.1f}" cy="{top + plot_h - plot_h * v / peak:.1f}" '
                f'r="3" fill="{color}"><title>{escape(name)} {escape(months[m])}: {_n(v)}'
                "</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def heat_matrix(names: list[str], pairs: list[dict[str, Any]], caption: str) -> str:
    """Rows: the baseline's value; columns: the candidate's; cells: members."""
    counts = {(p["from"], p["to"]): p["members"] for p in pairs}
    peak = max(counts.values(), default=1)
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = []
    for f in names:
        cells = []
        for t in names:
            n = counts.get((f, t), 0)
            if f == t:
                cells.append('<td class="same">&middot;</td>')
            elif n:
                alpha = 0.15 + 0.85 * n / peak
                cells.append(f'<td style="background: rgba(224,123,57,{alpha:.2f})">{_n(n)}</td>')
            else:
                cells.append('<td class="zero">0</td>')
        rows.append(f"<tr><th>{escape(f)}</th>{''.join(cells)}</tr>")
    return (
        f'<table class="matrix"><caption>{escape(caption)}</caption>'
        f'<tr><th class="corner">baseline &darr; / candidate &rarr;</th>{head}</tr>'
        f"{''.join(rows)}</table>"
    )


def legend(a: str, b: str) -> str:
    return (
        f'<div class="legend"><span style="background:{BASE}"></span>baseline {escape(a)}'
        f'<span style="background:{CAND}"></span>candidate {escape(b)}</div>'
    )


def compare_table(label: str, keys: list[str], a: dict[str, int], b: dict[str, int]) -> str:
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{_n(a.get(k, 0))}</td><td>{_n(b.get(k, 0))}</td>"
        f"<td>{_delta(b.get(k, 0) - a.get(k, 0))}</td></tr>"
        for k in keys
    )
    total_a, total_b = sum(a.get(k, 0) for k in keys), sum(b.get(k, 0) for k in keys)
    return (
        f'<table class="numbers"><tr><th>{escape(label)}</th><th>baseline</th>'
        f"<th>candidate</th><th>difference</th></tr>{rows}"
        f"<tr class='total'><td>total</td><td>{_n(total_a)}</td><td>{_n(total_b)}</td>"
        f"<td>{_delta(total_b - total_a)}</td></tr></table>"
    )


def _money(text: str) -> str:
    return f"{Decimal(text):,}"


def _card(title: str, value: str, note: str) -> str:
    return (
        f'<div class="card"><div class="title">{escape(title)}</div>'
        f'<div class="big">{value}</div><div class="note">{note}</div></div>'
    )


def tier_chart(tiers: list[str], a: dict[str, Any], b: dict[str, Any]) -> str:
    """Grouped bars per tier. A base tier holding most members would flatten every other bar
    to nothing: it is then left out of the drawing (its numbers stay in the table)."""
    drawn, note = tiers, ""
    base, rest = tiers[0], tiers[1:]
    x, y = a["tiers"], b["tiers"]
    biggest_rest = max([x.get(t, 0) for t in rest] + [y.get(t, 0) for t in rest] + [0])
    if rest and x.get(base, 0) > 5 * max(biggest_rest, 1):
        drawn = rest
        note = (
            f'<p class="method">The base tier ({escape(base)}: {_n(x.get(base, 0))} &rarr; '
            f"{_n(y.get(base, 0))} members) is left out of the chart so the tiers above it "
            "can be read; it is in the table.</p>"
        )
    bars = grouped_bars(
        drawn,
        [
            (a["program"], BASE, [x.get(t, 0) for t in drawn]),
            (b["program"], CAND, [y.get(t, 0) for t in drawn]),
        ],
    )
    return bars + note


def render(report: dict[str, Any]) -> str:
    a, b, cost, movers = report["baseline"], report["candidate"], report["cost"], report["movers"]
    la, lb = a["liability"], b["liability"]
    # The baseline's tiers, then any the candidate adds (a candidate may rename or add tiers).
    tiers = [*a["tiers"], *(t for t in b["tiers"] if t not in a["tiers"])]
    sources = sorted(set(a["earned_by_source"]) | set(b["earned_by_source"]))
    months = sorted(set(a["outstanding_by_month"]) | set(b["outstanding_by_month"]))
    bands = sorted(set(a["class_bands"]) | set(b["class_bands"]))
    money_card = ""
    if "deferred_revenue" in cost:
        money_card = _card(
            "Deferred revenue",
            f"{Decimal(cost['deferred_revenue']):+,} <small>{escape(cost['currency'])}</small>",
            f"{_money(la['valuation']['deferred_revenue'])} &rarr; "
            f"{_money(lb['valuation']['deferred_revenue'])}",
        )
    cards = "".join(
        [
            _card(
                "Members who move",
                _n(movers["members_moved"]),
                f"of {_n(a['members'])} (tier or class band differs)",
            ),
            _card(
                "Points issued",
                _delta(cost["points_issued"]),
                f"{_n(a['earned_total'])} &rarr; {_n(b['earned_total'])}",
            ),
            _card(
                "Points outstanding",
                _delta(cost["points_outstanding"]),
                f"{_n(la['outstanding']['redeemable'])} &rarr; "
                f"{_n(lb['outstanding']['redeemable'])} at {escape(report['as_of'])}",
            ),
            money_card,
            _card(
                "Points expired",
                _delta(cost["points_expired"]),
                f"{_n(a['expired'])} &rarr; {_n(b['expired'])}",
            ),
            _card(
                "Redemptions refused (points)",
                _delta(b["redemptions_refused_for_points"] - a["redemptions_refused_for_points"]),
                f"{_n(a['redemptions_refused_for_points'])} &rarr; "
                f"{_n(b['redemptions_refused_for_points'])}",
            ),
            _card(
                "Retention offers",
                _delta(b["retention_offers"] - a["retention_offers"]),
                f"{_n(a['retention_offers'])} &rarr; {_n(b['retention_offers'])}",
            ),
        ]
    )
    top = "".join(
        f"<tr><td>{escape(m['member_id'])}</td><td>{escape(m['tier'][0])} &rarr; "
        f"{escape(m['tier'][1])}</td><td>{escape(m['class_band'][0])} &rarr; "
        f"{escape(m['class_band'][1])}</td><td>{_n(m['balance'][0])}</td>"
        f"<td>{_n(m['balance'][1])}</td><td>{_delta(m['points_difference'])}</td></tr>"
        for m in movers["top_by_points"]
    )
    liability_rows = []
    for label, path in [
        ("redeemable", ("outstanding", "redeemable")),
        ("available", ("outstanding", "available")),
        ("pending (locked)", ("outstanding", "pending")),
        ("held (velocity)", ("outstanding", "held")),
        ("debt", ("outstanding", "debt")),
    ]:
        x, y = la[path[0]][path[1]], lb[path[0]][path[1]]
        liability_rows.append(
            f"<tr><td>{label}</td><td>{_n(x)}</td><td>{_n(y)}</td><td>{_delta(y - x)}</td></tr>"
        )
    for label, key in [("breakage rate", "rate")]:
        liability_rows.append(
            f"<tr><td>{label}</td><td>{float(la['breakage'][key]):.2%}</td>"
            f"<td>{float(lb['breakage'][key]):.2%}</td><td></td></tr>"
        )
    for label, key in [
        ("outstanding value", "outstanding_value"),
        ("deferred revenue", "deferred_revenue"),
    ]:
        if "valuation" in la and "valuation" in lb:
            liability_rows.append(
                f"<tr><td>{label} ({escape(la['valuation']['currency'])})</td>"
                f"<td>{_money(la['valuation'][key])}</td><td>{_money(lb['valuation'][key])}</td>"
                f"<td>{Decimal(lb['valuation'][key]) - Decimal(la['valuation'][key]):+,}</td></tr>"
            )
    rules = sorted(set(a["retention_rules_fired"]) | set(b["retention_rules_fired"]))
    barriers = sorted(set(a["barriers"]) | set(b["barriers"]))
    month_rows = "".join(
        f"<tr><td>{m}</td><td>{_n(a['outstanding_by_month'].get(m, 0))}</td>"
        f"<td>{_n(b['outstanding_by_month'].get(m, 0))}</td>"
        f"<td>{_delta(b['outstanding_by_month'].get(m, 0) - a['outstanding_by_month'].get(m, 0))}"
        f"</td></tr>"
        for m in months
    )
    key = legend(a["program"], b["program"])
    tier_svg = tier_chart(tiers, a, b)
    liability_svg = line_chart(
        months,
        [
            (a["program"], BASE, [a["outstanding_by_month"].get(m, 0) for m in months]),
            (b["program"], CAND, [b["outstanding_by_month"].get(m, 0) for m in months]),
        ],
    )
    source_svg = grouped_bars(
        sources,
        [
            (a["program"], BASE, [a["earned_by_source"].get(s, 0) for s in sources]),
            (b["program"], CAND, [b["earned_by_source"].get(s, 0) for s in sources]),
        ],
    )
    rules_table = compare_table(
        "retention rules fired", rules, a["retention_rules_fired"], b["retention_rules_fired"]
    )
    codes = sorted(set(a["rejected_by_code"]) | set(b["rejected_by_code"]))
    rejected_table = compare_table(
        "inputs rejected", codes, a["rejected_by_code"], b["rejected_by_code"]
    )
    exact = la["reconciliation"]["exact"] and lb["reconciliation"]["exact"]
    reconciled = "yes, to the point" if exact else "NO (see report.json reconciliation)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>What-if: {escape(a["program"])} vs {escape(b["program"])}</title>
<style>
body {{ font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #1f2933; margin: 0;
       background: #f4f6f8; }}
main {{ max-width: 860px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }}
h1 {{ font-size: 24px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 36px 0 6px;
     border-bottom: 2px solid #e4e7eb; padding-bottom: 4px; }}
.sub {{ color: #616e7c; margin: 0 0 18px; }}
.cards {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }}
.card {{ border: 1px solid #e4e7eb; border-radius: 8px; padding: 10px 12px; }}
.card .title {{ color: #616e7c; font-size: 12px; text-transform: uppercase;
               letter-spacing: .03em; }}
.card .big {{ font-size: 20px; font-weight: 600; margin: 2px 0; white-space: nowrap; }}
.card .note {{ color: #616e7c; font-size: 12px; }}
.chart {{ width: 100%; height: auto; }}
.chart .grid {{ stroke: #e4e7eb; }}
.chart .axis, .chart .value {{ font-size: 11px; fill: #616e7c; }}
.chart .label {{ font-size: 12px; fill: #1f2933; }}
.legend {{ font-size: 13px; color: #3e4c59; margin: 4px 0; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 6px 0 14px;
                vertical-align: -1px; border-radius: 2px; }}
table {{ border-collapse: collapse; margin: 8px 0; font-size: 13px; }}
.numbers td, .numbers th {{ padding: 3px 12px; text-align: right;
                            border-bottom: 1px solid #eef0f2; }}
.numbers td:first-child, .numbers th:first-child {{ text-align: left; }}
.numbers .total td {{ font-weight: 600; border-top: 1px solid #9aa5b1; }}
.matrix td, .matrix th {{ padding: 5px 10px; text-align: center; border: 1px solid #e4e7eb; }}
.matrix caption {{ text-align: left; color: #616e7c; padding-bottom: 4px; }}
.matrix .same {{ background: #f4f6f8; color: #9aa5b1; }} .matrix .zero {{ color: #cbd2d9; }}
.matrix .corner {{ font-weight: normal; color: #616e7c; font-size: 11px; }}
.up {{ color: #b44d12; }} .down {{ color: #1f7a4d; }}
.method {{ color: #616e7c; font-size: 12px; }}
.two {{ display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }}
</style></head><body><main>
<h1>What-if: {escape(b["program"])} against {escape(a["program"])}</h1>
<p class="sub">The same history ({_n(report["lines"])} lines of {escape(report["events"])}) replayed
under both programmes, as of {escape(report["as_of"])}. Baseline: <b>{escape(a["program"])}</b>;
candidate: <b>{escape(b["program"])}</b>. Differences are candidate minus baseline.</p>
<div class="cards">{cards}</div>

<h2>Tier distribution</h2>
{key}
{tier_svg}
{compare_table("members per tier", tiers, a["tiers"], b["tiers"])}

<h2>Points liability over time</h2>
{key}
{liability_svg}
<table class="numbers"><tr><th>end of month</th><th>baseline</th><th>candidate</th>
<th>difference</th></tr>{month_rows}</table>

<h2>Who moves</h2>
<p>{_n(movers["members_moved"])} members end in another tier or class band under the
candidate.</p>
<div class="two">
{heat_matrix(tiers, movers["tier"], "members per tier, baseline to candidate")}
{heat_matrix(bands, movers["class_band"], "members per class band ('-': not graded yet)")}
</div>
<table class="numbers"><caption>top movers by points</caption><tr><th>member</th><th>tier</th>
<th>band</th><th>baseline points</th><th>candidate points</th><th>difference</th></tr>{top}</table>

<h2>Points earned by source</h2>
{key}
{source_svg}
{compare_table("points earned", sources, a["earned_by_source"], b["earned_by_source"])}

<h2>Liability and valuation at {escape(report["as_of"])}</h2>
<table class="numbers"><tr><th></th><th>baseline</th><th>candidate</th><th>difference</th></tr>
{"".join(liability_rows)}</table>
<p class="method">Deferred revenue = redeemable points &times; value per point &times;
(1 &minus; expected breakage), to the cent, half up. Breakage: baseline
{escape(la["breakage"]["method"])}; candidate {escape(lb["breakage"]["method"])}.
Held points are not yet credited and debt is owed by members: both are shown, neither is in the
liability. Ledger, balances and report reconcile: {reconciled}.</p>

<h2>Retention and barriers</h2>
{rules_table}
{compare_table("barriers applied", barriers, a["barriers"], b["barriers"])}
{rejected_table}
</main></body></html>
"""
