"""`loyalty generate` and `loyalty replay` through the command line."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import orjson
import pytest

from entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[2]
AIRLINE = str(ROOT / "programs/airline.yaml")
RETAIL = str(ROOT / "programs/retail.yaml")


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "events.jsonl"
    assert (
        main(
            [
                "generate",
                "--members",
                "300",
                "--events",
                "20000",
                "--seed",
                "5",
                "--out",
                str(out),
                "--program",
                AIRLINE,
            ]
        )
        == 0
    )
    return out


def test_generate_is_deterministic_per_seed(workload: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again.jsonl", tmp_path / "other.jsonl"
    main(
        [
            "generate",
            "--members",
            "300",
            "--events",
            "20000",
            "--seed",
            "5",
            "--out",
            str(again),
            "--program",
            AIRLINE,
        ]
    )
    main(
        [
            "generate",
            "--members",
            "300",
            "--events",
            "20000",
            "--seed",
            "6",
            "--out",
            str(other),
            "--program",
            AIRLINE,
        ]
    )
    assert again.read_bytes() == workload.read_bytes()
    assert other.read_bytes() != workload.read_bytes()


def test_generate_writes_exactly_the_requested_mix(workload: Path) -> None:
    lines = workload.read_bytes().splitlines()
    assert len(lines) == 20000
    kinds: Counter[str] = Counter()
    for line in lines:
        try:
            kinds[orjson.loads(line).get("type", "?")] += 1
        except orjson.JSONDecodeError:
            kinds["malformed"] += 1
    for kind in (
        "member_enrolled",
        "purchase",
        "refund",
        "flight_flown",
        "flight_cancelled",
        "partner_accrual",
        "redeem",
        "transfer_points",
        "retro_claim",
        "manual_adjustment",
        "status_match_request",
        "clock",
        "malformed",
    ):
        assert kinds[kind] > 0, kind
    assert len(lines) - len(set(lines)) > 50  # exact duplicates (upstream retries)


def test_activity_is_pareto_distributed(workload: Path) -> None:
    per_member: Counter[str] = Counter()
    for line in workload.read_bytes().splitlines():
        try:
            member = orjson.loads(line).get("member_id")
        except orjson.JSONDecodeError:
            continue
        if member:
            per_member[member] += 1
    volumes = sorted(per_member.values(), reverse=True)
    top = volumes[: len(volumes) // 5]
    assert sum(top) / sum(volumes) > 0.5


def test_replay_writes_every_output_and_counts_reconcile(workload: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["replay", str(workload), "--program", AIRLINE, "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        "members.jsonl",
        "ledger.jsonl",
        "status_changes.jsonl",
        "rejected.jsonl",
        "alerts.jsonl",
        "summary.json",
    }
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["reconciled"] is True
    assert summary["received"] == 20000
    assert summary["received"] == summary["applied"] + summary["duplicates"] + summary["rejected"]
    assert summary["rejected"] == sum(summary["rejected_by_code"].values())
    rejected = [orjson.loads(line) for line in (out / "rejected.jsonl").read_bytes().splitlines()]
    assert len(rejected) == summary["rejected"]
    assert all(r["code"] and r["message"] and r["event"] for r in rejected)
    assert summary["rejected_by_code"]["undecodable"] > 0


def test_replay_members_balances_equal_their_ledger(workload: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    main(["replay", str(workload), "--program", AIRLINE, "--out", str(out)])
    totals: Counter[tuple[str, str]] = Counter()
    ids = set()
    for line in (out / "ledger.jsonl").read_bytes().splitlines():
        posting = orjson.loads(line)
        totals[(posting["member_id"], posting["currency"])] += posting["points"]
        ids.add(posting["posting_id"])
    members = [orjson.loads(line) for line in (out / "members.jsonl").read_bytes().splitlines()]
    assert len(ids) == sum(1 for _ in (out / "ledger.jsonl").read_bytes().splitlines())
    for member in members:
        miles = member["balances"]["miles"]
        assert miles["total"] == totals[(member["member_id"], "miles")]
        assert miles["total"] == miles["available"] + miles["pending"]
        assert (
            member["balances"]["qualifying_miles"]
            == totals[(member["member_id"], "qualifying_miles")]
        )


def test_replay_is_byte_for_byte_reproducible(workload: Path, tmp_path: Path) -> None:
    main(["replay", str(workload), "--program", AIRLINE, "--out", str(tmp_path / "a")])
    main(["replay", str(workload), "--program", AIRLINE, "--out", str(tmp_path / "b")])
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_replay_rejects_undecodable_lines_without_stopping(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b'{"event_id":"e1","type":"member_enrolled","member_id":"M1",'
        b'"occurred_at":"2026-01-01T00:00:00Z","enrolled_on":"2026-01-01"}\n'
        b"\xff\xfe garbage\n"
        b"\n"
        b'{"event_id":"e2","type":"purchase","member_id":"M1","occurred_at":'
        b'"2026-01-02T00:00:00Z","merchant":"m","category":"food","amount":"10",'
        b'"currency":"EUR","sale_id":"s1"}\n'
    )
    out = tmp_path / "out"
    assert main(["replay", str(events), "--program", RETAIL, "--out", str(out)]) == 0
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert (summary["received"], summary["applied"], summary["rejected"]) == (3, 2, 1)
    rejected = orjson.loads((out / "rejected.jsonl").read_bytes())
    assert rejected["line"] == 2 and rejected["code"] == "undecodable"
    member = orjson.loads((out / "members.jsonl").read_bytes())
    assert member["balances"]["points"]["pending"] == 10 + 100  # earn + welcome bonus


def test_replay_and_generate_report_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["replay", str(tmp_path / "none.jsonl"), "--program", RETAIL, "--out", str(tmp_path)])
        == 2
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["replay", str(tmp_path / "none.jsonl"), "--program", str(bad), "--out", str(tmp_path)]
        )
    assert exit_info.value.code == 2
    assert "invalid programme" in capsys.readouterr().err


def test_a_retail_workload_has_no_flights(tmp_path: Path) -> None:
    out = tmp_path / "retail.jsonl"
    main(
        [
            "generate",
            "--members",
            "50",
            "--events",
            "3000",
            "--seed",
            "1",
            "--out",
            str(out),
            "--program",
            RETAIL,
        ]
    )
    text = out.read_bytes()
    assert b'"flight_flown"' not in text and b'"retro_claim"' not in text
    assert b'"dairy-co"' in text or b'"bakery-co"' in text


STATUS_TYPES = {
    "tier_changed",
    "class_changed",
    "status_match_granted",
    "status_match_confirmed",
    "status_match_expired",
    "barrier_triggered",
    "retention_offer_issued",
    "lifecycle_stage_changed",
    "points_adjusted",
    "accrual_held",
    "hold_released",
    "hold_rejected",
    "hold_expired",
    "hold_voided",
}


def test_replay_records_status_changes_and_members_carry_status(
    workload: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    main(["replay", str(workload), "--program", AIRLINE, "--out", str(out)])
    changes = [
        orjson.loads(line) for line in (out / "status_changes.jsonl").read_bytes().splitlines()
    ]
    seen = {c["type"] for c in changes}
    assert seen <= STATUS_TYPES
    assert {
        "tier_changed",
        "class_changed",
        "lifecycle_stage_changed",
        "status_match_granted",
    } <= seen
    assert all(c["member_id"] and c["at"] and c["cause"] and c["reason"] for c in changes)
    members = [orjson.loads(line) for line in (out / "members.jsonl").read_bytes().splitlines()]
    assert {"tier", "class_code", "lifecycle_stage", "match"} <= set(members[0])
    assert any(m["class_code"] for m in members)
    tiers = orjson.loads((ROOT / "schemas/json/program.json").read_bytes())
    assert "tier_rules" in tiers["properties"]


def test_report_grades_prints_bands_thresholds_and_pareto_share(
    workload: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["report", "grades", str(workload), "--program", AIRLINE, "--out", str(tmp_path)]) == 0
    )
    table = capsys.readouterr().out
    assert "top20%" in table and "2026-P01" in table
    rows = orjson.loads((tmp_path / "grades.json").read_bytes())
    assert rows and all(sum(r["bands"].values()) == r["members"] for r in rows)
    ranked = [r for r in rows if r["ranked"] and r["volume"]]
    assert all(0 < r["pareto_share_top_20pct"] <= 1 for r in ranked)
    assert (tmp_path / "grades.txt").read_text().startswith("period")


def occurred_at(line: bytes) -> str:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return ""
    return str(event.get("occurred_at", "")) if isinstance(event, dict) else ""


def test_report_grades_reads_an_out_of_order_file_as_replay_does(
    workload: Path, tmp_path: Path
) -> None:
    # Inside each clock epoch the lines go newest first (ties keep their order): enrolments
    # now follow their members' purchases. Replay orders by event time, and so must the report.
    lines = workload.read_bytes().splitlines(keepends=True)
    shuffled: list[bytes] = []
    epoch: list[bytes] = []
    for line in lines:
        if b'"type":"clock"' in line:
            shuffled += sorted(epoch, key=occurred_at, reverse=True)
            shuffled.append(line)
            epoch = []
        else:
            epoch.append(line)
    shuffled += sorted(epoch, key=occurred_at, reverse=True)
    assert shuffled != lines
    out_of_order = tmp_path / "shuffled.jsonl"
    out_of_order.write_bytes(b"".join(shuffled))
    reports = []
    for source, name in ((workload, "sorted"), (out_of_order, "shuffled")):
        args = [
            "report",
            "grades",
            str(source),
            "--program",
            AIRLINE,
            "--out",
            str(tmp_path / name),
        ]
        assert main(args) == 0
        reports.append((tmp_path / name / "grades.json").read_bytes())
    assert reports[0] == reports[1]
    for source, name in ((workload, "r-sorted"), (out_of_order, "r-shuffled")):
        args = ["replay", str(source), "--program", AIRLINE, "--out", str(tmp_path / name)]
        assert main(args) == 0
    members = [(tmp_path / n / "members.jsonl").read_bytes() for n in ("r-sorted", "r-shuffled")]
    assert members[0] == members[1]
