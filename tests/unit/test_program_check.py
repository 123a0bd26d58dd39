"""`loyalty program check`: a readable summary of a valid programme, every problem of an
invalid one with its path and line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_summary_shows_tiers_earning_expiry_and_barriers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["program", "check", str(ROOT / "programs/airline.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("programme skyways: valid\n")
    assert "  blue       base tier\n" in out
    assert (
        "  gold       50,000 qualifying_miles + 3,000 qualifying_spend or "
        "50 qualifying_segments + 3,000 qualifying_spend\n"
    ) in out
    assert "lifetime gold after 10 periods at gold or above or 1,000,000 qualifying_miles" in out
    assert "purchases: blue 1, silver 1, gold 1.5, platinum 2, diamond 2 per unit" in out
    assert "flights on SK: revenue, blue 5, silver 7, gold 8, platinum 9, diamond 11" in out
    assert "partner hotel-co: 3 per unit, daily cap 15,000" in out
    assert "expiry: the whole balance after 24 months without activity" in out
    assert "fee 10% (min 100)" in out
    assert "restrict-outbound-high-tier-decline: restrict_transfers when tier_at_least=gold" in out
    assert "grading: qualifying_spend every 3 months within home_market: K 20%, O 30%, P 50%" in out
    assert "valuation: 0.011 EUR per point; breakage estimated from history" in out


def test_lot_expiry_reads_per_lot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["program", "check", str(ROOT / "programs/retail.yaml")]) == 0
    out = capsys.readouterr().out
    assert "expiry: each lot" in out and "months after it was earned" in out


def test_an_invalid_programme_exits_2_with_path_line_and_allowed_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nbase_currency: EUR\ntiers: [a, b]\npending:\n  applies_to: [purchases]\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["program", "check", str(bad)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "pending.applies_to.0 (line 5)" in err
    assert "'purchase', 'flight' or 'partner'" in err


def test_a_valuation_with_a_breakage_estimate_is_summarised_and_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "programs/retail.yaml").read_text()
    given = text.replace(
        'value_per_point: "0.005"', 'value_per_point: "0.005"\n  expected_breakage: "0.2"'
    )
    (tmp_path / "p.yaml").write_text(given)
    assert main(["program", "check", str(tmp_path / "p.yaml")]) == 0
    assert "valuation: 0.005 EUR per point; breakage 20% expected" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text(given.replace('"0.2"', '"1.5"'))
    with pytest.raises(SystemExit) as exit_:
        main(["program", "check", str(tmp_path / "bad.yaml")])
    assert exit_.value.code == 2
    assert "valuation.expected_breakage" in capsys.readouterr().err
