"""Topic names and their creation. Names are `<namespace>.<name>.v<version>`, all keyed by
member id and co-partitioned (same partition count), so a member's events, state and outputs
always meet in one partition.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from config import Settings

STATE_RECORD_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    max_message_bytes: int | None = None

    def configs(self) -> dict[str, str]:
        configs = {"cleanup.policy": "compact"} if self.compacted else {}
        if self.max_message_bytes is not None:
            configs["max.message.bytes"] = str(self.max_message_bytes)
        return configs


@dataclass(frozen=True)
class TopicNames:
    """Names are cached: the engine asks for them for every record it sends (the f-string
    was 1% of a worker's time)."""

    namespace: str

    def _name(self, base: str, version: int = 1) -> str:
        return f"{self.namespace}.{base}.v{version}"

    @cached_property
    def purchases(self) -> str:
        return self._name("purchases")

    @cached_property
    def flights(self) -> str:
        return self._name("flights")

    @cached_property
    def partner_accruals(self) -> str:
        return self._name("partner-accruals")

    @cached_property
    def member_commands(self) -> str:
        return self._name("member-commands")

    @cached_property
    def clock(self) -> str:
        return self._name("clock")

    @cached_property
    def exchange(self) -> str:
        """Internal: follow-ups, clock seals and grading histograms between partitions."""
        return self._name("partition-exchange")

    @cached_property
    def member_state(self) -> str:
        """Internal: the engine's changelog (member states and each partition's marks)."""
        return self._name("member-state")

    @cached_property
    def ledger(self) -> str:
        return self._name("ledger-postings")

    @cached_property
    def member_status(self) -> str:
        return self._name("member-status")

    @cached_property
    def member_events(self) -> str:
        return self._name("member-events")

    @cached_property
    def ops(self) -> str:
        return self._name("ops")

    @cached_property
    def dead_letters(self) -> str:
        return self._name("dead-letters")

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """The input topics, each carrying a copy of every clock tick (its watermark)."""
        return (
            self.member_commands,
            self.purchases,
            self.flights,
            self.partner_accruals,
            self.clock,
        )

    def for_type(self, event_type: object) -> str:
        """The input topic an event type is produced to; unknown types go to member commands,
        where the engine dead-letters or rejects them."""
        base = _TOPIC_OF_TYPE.get(event_type) if isinstance(event_type, str) else None
        return self._name(base or "member-commands")

    def specs(self) -> list[TopicSpec]:
        return [
            *(TopicSpec(name) for name in self.inputs),
            TopicSpec(self.exchange),
            # A member's compressed state stays far below this; Kafka's 1 MB default is lifted.
            TopicSpec(self.member_state, compacted=True, max_message_bytes=STATE_RECORD_BYTES),
            TopicSpec(self.ledger),
            TopicSpec(self.member_status, compacted=True),
            TopicSpec(self.member_events),
            TopicSpec(self.ops),
            TopicSpec(self.dead_letters),
        ]


_TOPIC_OF_TYPE = {
    "member_enrolled": "member-commands",
    "redeem": "member-commands",
    "transfer_points": "member-commands",
    "status_match_request": "member-commands",
    "retro_claim": "member-commands",
    "manual_adjustment": "member-commands",
    "hold_decision": "member-commands",
    "purchase": "purchases",
    "refund": "purchases",
    "flight_flown": "flights",
    "flight_cancelled": "flights",
    "partner_accrual": "partner-accruals",
    "clock": "clock",
}


class TopicLayoutError(RuntimeError):
    """An existing topic has a partition count that would break co-partitioning."""


async def delete_namespace(settings: Settings, timeout_s: float = 60.0) -> list[str]:
    """Delete every topic of the settings' namespace (those of `TopicNames` and any other
    prefixed `<namespace>.`, e.g. Faust's own). Benchmarks throw their namespaces away: the
    local broker kept ~15,000 partitions of earlier runs (24 GB) and its p99 latency at
    2,000 events/s had gone from ~140 ms to ~1,400 ms."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        prefix = f"{settings.namespace}."
        doomed = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
        if doomed:
            await asyncio.wait_for(admin.delete_topics(doomed), timeout_s)
            # Deletion completes in the background: wait until the cluster no longer lists them.
            deadline = asyncio.get_running_loop().time() + timeout_s
            while set(doomed) & set(await admin.list_topics()):
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"topics of {settings.namespace} still listed")
                await asyncio.sleep(0.2)
        return doomed
    finally:
        await admin.close()


async def ensure_topics(
    settings: Settings, replication_factor: int = 1, timeout_s: float = 60.0
) -> list[str]:
    """Create missing topics; verify existing ones. Returns the names created."""
    return await asyncio.wait_for(_ensure_topics(settings, replication_factor), timeout_s)


async def _ensure_topics(settings: Settings, replication_factor: int) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    names = TopicNames(settings.namespace)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = names.specs()
        missing = [spec for spec in wanted if spec.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        name=spec.name,
                        num_partitions=settings.partitions,
                        replication_factor=replication_factor,
                        topic_configs=spec.configs(),
                    )
                    for spec in missing
                ]
            )
        present = [spec.name for spec in wanted if spec.name in existing]
        if present:
            for meta in await admin.describe_topics(present):
                count = len(meta["partitions"])
                if count != settings.partitions:
                    raise TopicLayoutError(
                        f"topic {meta['topic']} has {count} partitions, the engine is "
                        f"configured for {settings.partitions} (LOYALTY_PARTITIONS)"
                    )
        if missing:
            await _wait_for_leaders(admin, [spec.name for spec in missing], settings.partitions)
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def _wait_for_leaders(admin: Any, topics: list[str], partitions: int) -> None:
    """New partitions take a moment to get a leader; producing before that only causes
    retries and warnings, so wait for it (bounded by ensure_topics' timeout)."""
    while True:
        described = await admin.describe_topics(topics)
        ready = all(
            len(meta["partitions"]) == partitions
            and all(p.get("leader", -1) >= 0 for p in meta["partitions"])
            for meta in described
        )
        if ready:
            return
        await asyncio.sleep(0.1)
