"""The engine loop's outbox on the real broker: a batch the broker refuses is not dropped in
silence (the state written after it would make its outputs unrepeatable)."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from config import Settings
from streams.outbox import Outbox
from streams.topic_reader import read_all
from tests.integration.kafka_admin import create_topic

pytestmark = pytest.mark.integration


async def test_a_batch_the_broker_refuses_fails_the_flush(settings: Settings) -> None:
    topic = f"{settings.namespace}.small.v1"
    # The broker refuses batches over 2 KB on this topic (the producer allows 1 MB).
    await create_topic(settings.bootstrap_servers, topic, configs={"max.message.bytes": "2048"})
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        outbox = Outbox(producer)
        outbox.add(topic, 0, b"k", b"fits")
        await outbox.flush()
        assert outbox.failed is None
        outbox.add(topic, 0, b"k", b"x" * 10_000)
        with pytest.raises(KafkaError):
            await outbox.flush()
        with pytest.raises(KafkaError):  # and every later one: the loop stops there
            outbox.submit()
    finally:
        await producer.stop()
    assert [r.value for r in await read_all(settings.bootstrap_servers, [topic])] == [b"fits"]
