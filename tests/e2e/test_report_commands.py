"""The report commands as a user runs them: `loyalty report liability` and `loyalty whatif`
through the CLI (exit codes, files written, headline printed)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from entrypoints.cli import main
from tests.e2e.test_liability import HISTORY, ROOT, _write


def test_report_liability_writes_both_files_and_exits_0_when_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _write(tmp_path / "events.jsonl", HISTORY)
    argv = ["report", "liability", str(events), "--program", str(ROOT / "programs/retail.yaml")]
    assert main([*argv, "--out", str(tmp_path / "out"), "--as-of", "2027-01-31"]) == 0
    out = capsys.readouterr().out
    assert "points liability of corner at the end of 2027-01-31" in out
    assert "reconciliation: ledger 550 = balances 550 = report 550: exact" in out
    report = orjson.loads((tmp_path / "out/liability.json").read_bytes())
    assert report["outstanding"]["redeemable"] == 750
    assert (tmp_path / "out/liability.txt").read_text().startswith("points liability of corner")


def test_whatif_prints_the_headline_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _write(tmp_path / "events.jsonl", HISTORY)
    retail = str(ROOT / "programs/retail.yaml")
    programs = ["--baseline", retail, "--candidate", retail]
    out_dir = ["--out", str(tmp_path / "w"), "--as-of", "2027-01-31"]
    assert main(["whatif", str(events), *programs, *out_dir]) == 0
    out = capsys.readouterr().out
    assert "what-if over 10 lines, as of 2027-01-31: corner (baseline) vs corner (candidate)" in out
    assert "members moved: 0" in out  # the same programme on both sides moves nobody
    report = orjson.loads((tmp_path / "w/report.json").read_bytes())
    assert report["cost"]["points_issued"] == 0
    assert (tmp_path / "w/report.html").exists()


@pytest.mark.parametrize("command", ["liability", "whatif"])
def test_a_missing_events_file_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    retail = str(ROOT / "programs/retail.yaml")
    missing = str(tmp_path / "nope.jsonl")
    if command == "liability":
        argv = ["report", "liability", missing, "--program", retail]
    else:
        argv = ["whatif", missing, "--baseline", retail, "--candidate", retail]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
