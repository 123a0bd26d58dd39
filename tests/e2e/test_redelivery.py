"""The redelivery property, end to end through `loyalty replay`: for any generated workload
(busy members with thousands of events included), copies of its events inserted anywhere
after the original, re-serialised or byte-identical, near or far, give byte-identical members,
ledger and status changes. Copies within the horizon are duplicates; copies beyond it are
rejected `too_late`; none is ever applied."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.program_file import load_program
from entrypoints.replay import replay
from workload.generator import Workload

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = load_program(ROOT / "programs/airline.yaml")
OUTPUTS = ("members.jsonl", "ledger.jsonl", "status_changes.jsonl", "alerts.jsonl")


def reserialised(line: bytes, rng: random.Random) -> bytes:
    """The same event as another producer might write it: other key order, amounts with
    trailing zeros, the time in another zone."""
    try:
        event: Any = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(event, dict):
        return line
    for key in ("amount", "base_fare"):
        if isinstance(event.get(key), str):
            event[key] = str(Decimal(event[key]).quantize(Decimal("0.0001")))
    if isinstance(event.get("occurred_at"), str):
        try:
            moment = datetime.fromisoformat(event["occurred_at"])
        except ValueError:
            return line
        event["occurred_at"] = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    items = list(event.items())
    rng.shuffle(items)
    return orjson.dumps(dict(items)) + b"\n"


def with_copies(lines: list[bytes], seed: int, share: float, reach: int) -> list[bytes]:
    """Each line is copied with probability `share` to a random later position at most
    `reach` lines on (or anywhere after it when reach is 0)."""
    rng = random.Random(seed)
    inserts: dict[int, list[bytes]] = {}
    for index, line in enumerate(lines):
        if rng.random() < share:
            limit = len(lines) if reach == 0 else min(len(lines), index + 1 + reach)
            where = rng.randrange(index + 1, limit + 1)
            copy = reserialised(line, rng) if rng.random() < 0.5 else line
            inserts.setdefault(where, []).append(copy)
    out: list[bytes] = []
    for index in range(len(lines) + 1):
        out += inserts.get(index, [])
        if index < len(lines):
            out.append(lines[index])
    return out


def member_of(line: bytes) -> str | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return event.get("member_id") if isinstance(event, dict) else None


def run(lines: list[bytes], where: Path) -> dict[str, Any]:
    where.mkdir()
    events = where / "events.jsonl"
    events.write_bytes(b"".join(lines))
    summary = replay(events, PROGRAM, where / "out", progress=False)
    return {"summary": summary, **{n: (where / "out" / n).read_bytes() for n in OUTPUTS}}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    members=st.integers(1, 40),
    events=st.integers(500, 3000),
    seed=st.integers(0, 10_000),
    share=st.sampled_from([0.02, 0.1, 0.5]),
    reach=st.sampled_from([5, 300, 0]),
)
def test_copies_anywhere_after_the_original_change_nothing(
    members: int, events: int, seed: int, share: float, reach: int
) -> None:
    lines = list(Workload(members, events, seed, PROGRAM).lines())
    copied = with_copies(lines, seed, share, reach)
    with tempfile.TemporaryDirectory() as tmp:
        plain = run(lines, Path(tmp) / "plain")
        doubled = run(copied, Path(tmp) / "copied")
    for name in OUTPUTS:
        assert plain[name] == doubled[name], name
    assert plain["summary"].applied == doubled["summary"].applied
    extra = doubled["summary"].received - plain["summary"].received
    gained = Counter(doubled["summary"].rejected_by_code)
    gained.subtract(plain["summary"].rejected_by_code)
    # Every copy is a duplicate, or rejected like its original, or too late: never applied.
    assert (
        doubled["summary"].duplicates - plain["summary"].duplicates + sum(gained.values()) == extra
    )


def test_a_member_with_thousands_of_events_replayed_twice_is_unchanged() -> None:
    lines = list(Workload(2, 6000, 11, PROGRAM).lines())
    busiest = Counter(member_of(x) for x in lines)
    assert max(n for m, n in busiest.items() if m) > 2000
    with tempfile.TemporaryDirectory() as tmp:
        once = run(lines, Path(tmp) / "once")
        twice = run(lines + lines, Path(tmp) / "twice")
    for name in OUTPUTS:
        assert once[name] == twice[name], name
    assert twice["summary"].applied == once["summary"].applied
