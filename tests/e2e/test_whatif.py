"""What-if: one pass over the history, both programmes' figures equal their own runs, and the
comparison's arithmetic on a history small enough to check by hand."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

import entrypoints.replay as replay_module
from edge.program_file import load_program
from entrypoints.generate import generate
from entrypoints.liability import report_liability
from entrypoints.whatif import whatif
from loyalty.program import PurchaseEarn
from tests.e2e.test_liability import HISTORY, RETAIL, ROOT, _write

AS_OF = date(2027, 1, 31)


def _candidate() -> object:
    """Retail with plus at 2,000 spend (not 1,500) and 2 points per EUR at the member tier."""
    assert RETAIL.earn.purchases is not None
    rule: PurchaseEarn = replace(
        RETAIL.earn.purchases,
        points_per_unit={**RETAIL.earn.purchases.points_per_unit, "member": Decimal(2)},
    )
    thresholds = {**RETAIL.tier_rules.thresholds, "plus": ({"qualifying_spend": 2000},)}
    return replace(
        RETAIL,
        name="corner-next",
        earn=replace(RETAIL.earn, purchases=rule),
        tier_rules=replace(RETAIL.tier_rules, thresholds=thresholds),
    )


def test_the_comparison_of_a_hand_checked_history(tmp_path: Path) -> None:
    events = _write(tmp_path / "events.jsonl", HISTORY)
    candidate = _candidate()
    report = whatif(events, RETAIL, candidate, tmp_path / "out", AS_OF, progress=False)  # type: ignore[arg-type]
    a, b = report["baseline"], report["candidate"]
    # Baseline (see test_liability): M1 reaches plus with 1,600 spent; M2 stays member.
    assert a["tiers"] == {"member": 1, "plus": 1, "key": 0}
    # Candidate: plus needs 2,000; M1 spent 1,600 and stays member.
    assert b["tiers"] == {"member": 2, "plus": 0, "key": 0}
    assert report["movers"]["members_moved"] == 1
    assert report["movers"]["tier"] == [{"from": "plus", "to": "member", "members": 1}]
    top = report["movers"]["top_by_points"]
    assert [m["member_id"] for m in top] == ["M1"]
    # Candidate M1 earns 2/EUR: January 2000 + bonus 100 (redeemed 600, 1500 expire), March
    # 1000, November 100 x 2 x 2 = 400 (200 of them the promotion's) -> 1,400 left.
    assert top[0]["balance"] == [750, 1400]
    assert top[0]["points_difference"] == 650
    # Earned: baseline purchase 1925 / promotion 125 / bonus 200; candidate: M1 2000 + 1000
    # + 200 (+200 promotion), M2 400 + 200 -> purchase 3800, promotion 200, bonus 200.
    assert a["earned_by_source"] == {"bonus": 200, "promotion": 125, "purchase": 1925}
    assert b["earned_by_source"] == {"bonus": 200, "promotion": 200, "purchase": 3800}
    assert a["expired"] == 500 and b["expired"] == 1500
    assert report["cost"]["points_issued"] == 4200 - 2250
    assert report["cost"]["points_expired"] == 1000
    # Candidate M2: 400 + 100, redeemed 300 (200 left); the refund takes 500: 200 from the
    # lot and 300 into debt; the July purchase (200) repays 200: debt 100.
    assert b["liability"]["outstanding"]["debt"] == 100
    assert b["liability"]["outstanding"]["redeemable"] == 1400
    assert report["cost"]["points_outstanding"] == 1400 - 750
    # Money: each side's deferred revenue (its own breakage), candidate minus baseline.
    deferred = Decimal(b["liability"]["valuation"]["deferred_revenue"]) - Decimal(
        a["liability"]["valuation"]["deferred_revenue"]
    )
    assert Decimal(report["cost"]["deferred_revenue"]) == deferred
    assert report["cost"]["points_issued_value"] == "9.75"  # 1,950 x 0.005
    assert a["redemptions_refused_for_points"] == 0
    written = orjson.loads((tmp_path / "out/report.json").read_bytes())
    assert written["movers"] == report["movers"]


def test_each_side_equals_its_own_run_and_the_file_is_decoded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "events.jsonl"
    lines = generate(300, 6_000, 5, events, RETAIL)
    decoded = []
    original = replay_module.decode_external

    def counting(line: bytes) -> object:
        decoded.append(1)
        return original(line)

    monkeypatch.setattr(replay_module, "decode_external", counting)
    report = whatif(events, RETAIL, _candidate(), tmp_path / "out", progress=False)  # type: ignore[arg-type]
    assert len(decoded) == lines  # one decode per line, for both books
    monkeypatch.undo()
    as_of = date.fromisoformat(report["as_of"])
    for name, program in (("baseline", RETAIL), ("candidate", _candidate())):
        _, alone, _ = report_liability(program, events, tmp_path / name, as_of)  # type: ignore[arg-type]
        assert report[name]["liability"]["outstanding"] == alone["outstanding"]
        assert report[name]["liability"]["by_source"] == alone["by_source"]
        assert report[name]["liability"]["cohorts"] == alone["cohorts"]
        assert report[name]["liability"]["reconciliation"]["exact"]


def test_the_html_page_is_self_contained_and_shows_the_numbers(tmp_path: Path) -> None:
    events = _write(tmp_path / "events.jsonl", HISTORY)
    whatif(events, RETAIL, _candidate(), tmp_path / "out", AS_OF, progress=False)  # type: ignore[arg-type]
    html = (tmp_path / "out/report.html").read_text()
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert html.count("<svg") == 3  # tiers, liability over time, earn by source
    assert 'class="matrix"' in html  # the movers matrix
    for figure in ("corner-next", "plus &rarr; member", "3,800", "1,925", "+650"):
        assert figure in html


def test_the_progress_bar_shows_on_request_and_is_quiet_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _write(tmp_path / "events.jsonl", HISTORY)
    whatif(events, RETAIL, _candidate(), tmp_path / "a", AS_OF)  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    whatif(events, RETAIL, _candidate(), tmp_path / "b", AS_OF, progress=True)  # type: ignore[arg-type]
    assert "what-if [" in capsys.readouterr().err


def test_programmes_with_different_tiers_compare_without_losing_any(tmp_path: Path) -> None:
    """A candidate may be a different programme altogether (other tiers, other currency):
    every tier of both shows, and nothing crashes."""
    events = _write(tmp_path / "events.jsonl", HISTORY)
    airline = load_program(ROOT / "programs/airline.yaml")
    report = whatif(events, RETAIL, airline, tmp_path / "out", AS_OF, progress=False)
    assert set(report["baseline"]["tiers"]) == {"member", "plus", "key"}
    assert set(report["candidate"]["tiers"]) == {"blue", "silver", "gold", "platinum", "diamond"}
    assert {(p["from"], p["to"]) for p in report["movers"]["tier"]} == {
        ("member", "blue"),
        ("plus", "blue"),
    }
    html = (tmp_path / "out/report.html").read_text()
    for tier in ("member", "plus", "key", "blue", "diamond"):
        assert f"<td>{tier}</td>" in html
