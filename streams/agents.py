"""What the Faust app runs: the engine loop (streams/engine_loop.py) as a task, the metrics
timer and the Redis projection agent. Rules live in `loyalty/`, the stream protocol in
`streams/runner.py`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams import codec
from streams.engine_loop import EngineLoop
from streams.projection import MemberProjection

log = logging.getLogger(__name__)

PROJECTION_BATCH = 500
PROJECTION_WITHIN_S = 0.2
PROJECTION_MAX_BACKOFF_S = 5.0
_OUTAGES = (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, BusyLoadingError)


def register_engine(app: Any, loop: EngineLoop, group_id: str) -> None:
    """The engine loop as a task of the Faust app: started with the worker, stopped (state
    written, group left) before the app's producer goes."""

    @app.task
    async def engine() -> None:
        await loop.start(group_id)
        await loop.run()

    @app.on_before_shutdown.connect
    async def stop_engine(app: Any, **kwargs: Any) -> None:
        await loop.stop()


def register_metrics(app: Any, loop: EngineLoop, interval_s: float) -> None:
    ops_topic = loop.names.ops

    @app.timer(interval=interval_s)
    async def publish_metrics() -> None:
        lag = {}
        consumer = loop.consumer
        if consumer is None:
            return
        for (topic, partition), offset in list(loop.read.items()):
            try:
                highwater = consumer.highwater(TopicPartition(topic, partition))
            except (KeyError, AssertionError, IllegalStateError):
                continue
            if highwater is not None:
                lag[(topic, partition)] = max(int(highwater) - offset, 0)
        report = loop.meter.report([r.tally for r in loop.by_partition.values()], lag)
        if log.isEnabledFor(logging.INFO):  # describe() walks the partition's queues
            for runner in list(loop.by_partition.values()):
                log.info("%s", runner.describe())
        await app.producer.send(
            ops_topic, None, report.model_dump_json().encode(), None, None, None
        )


def register_projection(app: Any, member_status: Any, projection: MemberProjection) -> Any:
    @app.agent(member_status, name="project-member-status", concurrency=1)
    async def project_member_status(stream: Any) -> None:
        async for values in stream.take(PROJECTION_BATCH, within=PROJECTION_WITHIN_S):
            statuses = []
            for raw in values:
                try:
                    statuses.append(codec.decode_status(raw))
                except ValidationError as exc:
                    # Our own topic: a bad record here is a bug upstream, not member input.
                    log.error("skipping undecodable member-status record: %s", exc)
            await _apply_until_stored(projection, statuses)

    return project_member_status


async def _apply_until_stored(projection: MemberProjection, statuses: list[Any]) -> None:
    """Retry through a Redis outage. Only this agent waits; accrual goes on, and the backlog
    is projected when Redis returns (offsets are committed only after a batch is stored)."""
    backoff = 0.1
    while True:
        try:
            await projection.apply(statuses)
            return
        except _OUTAGES as exc:
            log.warning("read model unavailable (%s); retrying in %.1fs", exc, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, PROJECTION_MAX_BACKOFF_S)
