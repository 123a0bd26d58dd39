"""The one wiring place: settings in, a Faust app with its topics, tables and agents out.

The worker, the demo and the integration tests all build the engine through `create_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from config import Settings
from edge.program_file import load_program
from loyalty.program import Program
from streams.agents import register_engine, register_metrics, register_projection
from streams.engine_loop import EngineLoop
from streams.metrics import Meter
from streams.projection import MemberProjection, RedisMemberProjection
from streams.projection_loop import ProjectionLoop
from streams.topics import TopicNames


@dataclass
class Engine:
    app: Any  # faust.App (untyped)
    topics: TopicNames
    settings: Settings
    projection: MemberProjection | None
    runners: EngineLoop | None  # None in a projection-only worker
    feed: ProjectionLoop | None  # the read model's feed; None in an engine-only worker


def redis_projection(settings: Settings) -> RedisMemberProjection:
    import redis.asyncio as aioredis

    client = aioredis.from_url(
        settings.effective_redis_url, socket_timeout=5, socket_connect_timeout=2
    )
    return RedisMemberProjection(client, prefix=settings.namespace)


def app_id(settings: Settings) -> str:
    """The Faust app id: names the worker's data directory and the engine's consumer group
    (`<app id>-runners`). The read model's feed has one group for every role that runs it
    (streams/projection_loop.py)."""
    suffix = "-projection" if settings.role == "projection" else ""
    return f"{settings.namespace}.{settings.app_id}{suffix}"


def faust_settings(settings: Settings) -> dict[str, Any]:
    """What every Faust app of this project shares (the engine's, and the benchmark's
    idiomatic baseline, so the two are measured on equal terms)."""
    return {
        "broker": f"kafka://{settings.bootstrap_servers}",
        "autodiscover": False,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": 1,
        "topic_disable_leader": True,
        "web_enabled": False,
        # Everything is bytes: the runner encodes and decodes itself.
        "key_serializer": "raw",
        "value_serializer": "raw",
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        # Faust's defaults make a fresh group wait ~30 s to join on these small machines.
        "broker_rebalance_timeout": 10.0,
        "broker_session_timeout": 10.0,
        "broker_heartbeat_interval": 1.0,
    }


def create_engine(
    settings: Settings,
    projection: MemberProjection | None = None,
    program: Program | None = None,
) -> Engine:
    names = TopicNames(settings.namespace)
    datadir = settings.state_dir / "faust" / app_id(settings)
    datadir.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = faust.App(
        app_id(settings),
        # Per app id: Faust keeps its own files there (no tables: the engine loop keeps the
        # member state in its changelog topic).
        datadir=str(datadir),
        **faust_settings(settings),
    )
    runners, feed = None, None
    if settings.role in ("all", "engine"):
        runners = _register_engine(app, settings, program)
    if settings.role in ("all", "projection"):
        projection = projection or redis_projection(settings)
        feed = ProjectionLoop(settings, projection)
        register_projection(app, feed)
    # The engine and the read model consume with consumers of their own (see their modules);
    # Faust's would subscribe to nothing (aiokafka refuses that), so it is not started.
    app.boot_strategy.enable_kafka_consumer = False
    return Engine(
        app=app,
        topics=names,
        settings=settings,
        projection=projection,
        runners=runners,
        feed=feed,
    )


def _register_engine(app: Any, settings: Settings, program: Program | None) -> EngineLoop:
    loop = EngineLoop(settings, program or load_program(settings.program), Meter())
    # A group of its own, with the range assignor (co-partitioning; see engine_loop.py).
    register_engine(app, loop, f"{app_id(settings)}-runners")
    register_metrics(app, loop, settings.metrics_interval_s)
    return loop
