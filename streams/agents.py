"""The agents: decode -> core -> emit. Rules live in `loyalty/`, translation in `handlers`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams import codec
from streams.handlers import Source, handle_purchase
from streams.projection import MemberProjection

log = logging.getLogger(__name__)

PROJECTION_BATCH = 500
PROJECTION_WITHIN_S = 0.2
PROJECTION_MAX_BACKOFF_S = 5.0
_OUTAGES = (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, BusyLoadingError)


def register_accrual(
    app: Any,
    purchases: Any,
    members: Any,
    member_status: Any,
    ops: Any,
    dead_letters: Any,
    points_per_unit: int,
) -> Any:
    @app.agent(purchases, name="accrue-purchases", concurrency=1)
    async def accrue_purchases(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            key = message.key
            member_key = key.decode("utf-8", "replace") if key is not None else None
            outcome = handle_purchase(
                Source(message.topic, message.partition, message.offset, key, message.value),
                members.get(member_key) if member_key is not None else None,
                points_per_unit,
            )
            if outcome.kind == "applied":
                assert outcome.member_id is not None
                members[outcome.member_id] = outcome.new_record
                await member_status.send(key=outcome.member_id.encode(), value=outcome.status)
            elif outcome.kind == "dead_letter":
                await dead_letters.send(key=key, value=outcome.dead_letter)
            else:
                await ops.send(key=key, value=outcome.ops)

    return accrue_purchases


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
