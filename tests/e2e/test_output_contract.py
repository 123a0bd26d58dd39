"""Every record a replay writes to ledger.jsonl and status_changes.jsonl (the same bytes the
engine puts on the ledger-postings and member-events topics) is valid under the published
output models, so the AsyncAPI document describes what consumers really get."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from edge.program_file import load_program
from entrypoints.generate import generate
from entrypoints.replay import replay
from schemas.outputs import MEMBER_EVENT, LedgerPosting

ROOT = Path(__file__).resolve().parents[2]


def test_replay_outputs_validate_against_the_output_models(tmp_path: Path) -> None:
    kinds: Counter[str] = Counter()
    for name in ("airline", "retail"):
        program = load_program(ROOT / f"programs/{name}.yaml")
        events = tmp_path / f"{name}.jsonl"
        generate(500, 8_000, 3, events, program)
        out = tmp_path / name
        replay(events, program, out, progress=False)
        for line in (out / "ledger.jsonl").read_bytes().splitlines():
            LedgerPosting.model_validate_json(line)
            kinds["posting"] += 1
        for line in (out / "status_changes.jsonl").read_bytes().splitlines():
            kinds[MEMBER_EVENT.validate_json(line).type] += 1
    # Enough variety that the check means something.
    assert kinds["posting"] > 1000
    assert {"tier_changed", "lifecycle_stage_changed", "accrual_held"} <= set(kinds)
