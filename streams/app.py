"""The one wiring place: settings in, a Faust app with its topics, tables and agents out.

The worker, the demo and the integration tests all build the engine through `create_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from config import Settings
from streams.agents import register_accrual, register_projection
from streams.projection import MemberProjection, RedisMemberProjection
from streams.topics import TopicNames


@dataclass
class Engine:
    app: Any  # faust.App (untyped)
    topics: TopicNames
    settings: Settings
    projection: MemberProjection


def redis_projection(settings: Settings) -> RedisMemberProjection:
    import redis.asyncio as aioredis

    client = aioredis.from_url(
        settings.effective_redis_url, socket_timeout=5, socket_connect_timeout=2
    )
    return RedisMemberProjection(client, prefix=settings.namespace)


def create_engine(settings: Settings, projection: MemberProjection | None = None) -> Engine:
    names = TopicNames(settings.namespace)
    app = faust.App(
        f"{settings.namespace}.{settings.app_id}",
        broker=f"kafka://{settings.bootstrap_servers}",
        store=settings.store,
        autodiscover=False,
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_disable_leader=True,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # Faust's defaults make a fresh group wait ~30 s to join on these small machines.
        broker_rebalance_timeout=10.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
    )

    def topic(name: str) -> Any:
        return app.topic(
            name, key_serializer="raw", value_serializer="raw", partitions=settings.partitions
        )

    purchases, member_status = topic(names.purchases), topic(names.member_status)
    ops, dead_letters = topic(names.ops), topic(names.dead_letters)
    # Key and value go to the changelog as JSON (Faust's default for untyped tables).
    members = app.Table("members", partitions=settings.partitions)
    projection = projection or redis_projection(settings)
    register_accrual(
        app, purchases, members, member_status, ops, dead_letters, settings.points_per_unit
    )
    register_projection(app, member_status, projection)
    return Engine(app=app, topics=names, settings=settings, projection=projection)
