"""`python -m bench.stages`: a replay split into its stages writes what replay writes."""

from __future__ import annotations

from pathlib import Path

from bench.stages import split
from edge.program_file import load_program
from entrypoints.replay import replay
from workload.generator import Workload

PROGRAM = Path(__file__).resolve().parents[2] / "programs" / "airline.yaml"


def test_the_stages_write_the_outputs_a_replay_writes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(Workload(20, 400, 5, load_program(PROGRAM)).lines()))
    parts = split(events, PROGRAM)
    summary = replay(events, load_program(PROGRAM), tmp_path / "out", progress=False)
    assert parts["postings"] == summary.postings > 0
    assert parts["status changes"] == summary.status_changes
    assert all(parts[k] >= 0 for k in ("order and decode", "rulebook", "outputs"))
