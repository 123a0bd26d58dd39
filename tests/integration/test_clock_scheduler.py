"""`loyalty clock` on real Kafka: one copy of each tick on every input partition, a tick is
published once however often the scheduler runs, and event time does not go back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from config import Settings
from streams.scheduler import run_scheduler
from streams.topic_reader import read_all
from streams.topics import TopicNames, ensure_topics

pytestmark = pytest.mark.integration


async def test_ticks_reach_every_input_partition_once_and_never_go_back(
    settings: Settings,
) -> None:
    await ensure_topics(settings)
    names = TopicNames(settings.namespace)
    hour, lag = timedelta(hours=1), timedelta(seconds=5)
    t0 = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)

    async def once(now: datetime) -> int:
        return await run_scheduler(settings, hour, lag, once=True, now=lambda: now)

    assert await once(t0) == 1
    assert await once(t0 + timedelta(minutes=10)) == 0  # same boundary: already published
    assert await once(t0 + hour) == 1
    assert await once(t0 - hour) == 0  # a scheduler with a slow clock does not go back

    records = await read_all(settings.bootstrap_servers, list(names.inputs))
    ticks: dict[str, set[tuple[str, int]]] = {}
    for r in records:
        tick = orjson.loads(r.value or b"")
        assert tick["type"] == "clock" and r.key is None
        ticks.setdefault(tick["event_id"], set()).add((r.topic, r.partition))
    every_partition = {(t, p) for t in names.inputs for p in range(settings.partitions)}
    assert ticks == {
        "tick-20261123T100000Z": every_partition,
        "tick-20261123T110000Z": every_partition,
    }
    assert len(records) == 2 * len(every_partition)
