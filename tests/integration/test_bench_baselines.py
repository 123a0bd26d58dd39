"""`make bench`'s baselines run on the real broker: the idiomatic Faust agent applies a file
and answers its flush marker, as the engine does (the bench times both alike)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from config import Settings
from edge.program_file import load_program
from entrypoints.verify_stream import produce_file, wait_flushed, watched, workers
from streams.topic_reader import read_all
from streams.topics import TopicNames, delete_namespace, ensure_topics
from workload.generator import Workload

pytestmark = pytest.mark.integration
PROGRAM = Path(__file__).resolve().parents[2] / "programs" / "airline.yaml"


async def test_the_idiomatic_faust_agent_applies_a_file(settings: Settings, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(Workload(40, 600, 3, load_program(PROGRAM)).lines()))
    await ensure_topics(settings)
    command = [sys.executable, "-m", "bench.idiomatic"]
    with workers(settings, PROGRAM, 1, tmp_path, {}, "idiomatic", command) as procs:
        await produce_file(settings, events, "end")
        await watched(wait_flushed(settings, "end", 180), procs, tmp_path, "idiomatic")
    ledger = await read_all(settings.bootstrap_servers, [TopicNames(settings.namespace).ledger])
    assert len(ledger) > 300  # accruals, redemptions, expiries: its outputs, sent one by one
    # The benchmark throws each run's namespace away (Faust's own topics included), and only it.
    other = settings.model_copy(update={"namespace": settings.namespace + "-kept"})
    await ensure_topics(other)
    deleted = await delete_namespace(settings)
    ours = {spec.name for spec in TopicNames(settings.namespace).specs()}
    assert ours < set(deleted)  # and Faust's own (the agent's table changelog)
    assert await delete_namespace(settings) == []
    theirs = {spec.name for spec in TopicNames(other.namespace).specs()}
    assert set(await delete_namespace(other)) == theirs
