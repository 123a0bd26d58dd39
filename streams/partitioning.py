"""Which partition a member lives in: the producer's default partitioner (Kafka's murmur2), so
the engine, the gateway, the test producers and the table restore all agree."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(member_id: str, partitions: int) -> int:
    return int(murmur2(member_id.encode()) & 0x7FFFFFFF) % partitions
