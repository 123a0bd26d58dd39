"""What the Faust app runs: the engine loop (streams/engine_loop.py) and the read model's
feed (streams/projection_loop.py) as tasks, and the metrics timer. Rules live in `loyalty/`,
the stream protocol in `streams/runner.py`."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from streams.engine_loop import EngineLoop
from streams.projection_loop import ProjectionLoop

log = logging.getLogger(__name__)


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


def register_projection(app: Any, loop: ProjectionLoop) -> None:
    """The read model's feed as a task of the Faust app, like the engine loop."""

    @app.task
    async def project_member_status() -> None:
        await loop.start()
        await loop.run()

    @app.on_before_shutdown.connect
    async def stop_projection(app: Any, **kwargs: Any) -> None:
        await loop.stop()
