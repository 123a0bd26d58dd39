"""A transfer whose credit has not settled (no clock after it) is visible as in flight in the
sender's state, the replay summary and members file, and the read model's status record."""

from __future__ import annotations

from pathlib import Path

import orjson

from edge.program_file import load_program
from entrypoints.replay import ordered_outcomes, replay
from loyalty.book import Book
from loyalty.state import MemberState
from streams.runner import status_json


def test_a_transfer_with_no_later_clock_shows_in_every_output(tmp_path: Path) -> None:
    lines = [
        {"type": "member_enrolled", "member_id": "M1", "enrolled_on": "2026-01-01"},
        {"type": "member_enrolled", "member_id": "M2", "enrolled_on": "2026-01-01"},
        {
            "type": "manual_adjustment",
            "member_id": "M1",
            "command_id": "a1",
            "points": 9000,
            "reason": "funding",
            "operator_id": "op",
        },
        {
            "type": "transfer_points",
            "member_id": "M1",
            "command_id": "t1",
            "to_member_id": "M2",
            "points": 1000,
        },
    ]
    day = "2026-06-01T10:00:00+00:00"
    text = b"".join(
        orjson.dumps({"event_id": f"e{n}", "occurred_at": day, **line}) + b"\n"
        for n, line in enumerate(lines)
    )
    (tmp_path / "events.jsonl").write_bytes(text)
    summary = replay(tmp_path / "events.jsonl", PROGRAM, tmp_path / "out", progress=False)
    assert summary.as_json()["in_flight"] == {
        "TransferReceived:count": 1,
        "TransferReceived:points": 1000,
    }
    members = {
        m["member_id"]: m
        for m in map(orjson.loads, (tmp_path / "out/members.jsonl").read_bytes().splitlines())
    }
    assert members["M1"]["in_flight"] == 1000
    state = replay_state(tmp_path / "events.jsonl")
    assert orjson.loads(status_json(state, None))["in_flight"] == 1000


PROGRAM = load_program(Path(__file__).resolve().parents[2] / "programs/airline.yaml")


def replay_state(events: Path, member: str = "M1") -> MemberState:
    book = Book(PROGRAM)
    with events.open("rb") as source:
        for _ in ordered_outcomes(book, source):
            pass
    return book.members[member]
