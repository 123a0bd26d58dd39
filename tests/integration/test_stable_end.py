"""Reading back what a writer committed, on the real broker: a committed reader stops before a
transaction still open, so `wait_stable` waits for every record written so far to be decided
and names the partition that stays behind."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from config import Settings
from streams.topic_reader import UnstableEnd, end_offsets, read_all, wait_stable
from tests.integration.kafka_admin import create_topic

pytestmark = pytest.mark.integration


async def test_wait_stable_waits_for_an_open_transaction_and_names_it(settings: Settings) -> None:
    topic = f"{settings.namespace}.changelog.v1"
    await create_topic(settings.bootstrap_servers, topic, partitions=2)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        transactional_id=f"{settings.namespace}-writer",
    )
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"decided", key=b"a", partition=0)
        await wait_stable(settings.bootstrap_servers, [topic], 30)  # all decided: no wait

        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"open", key=b"a", partition=1)
        high = await end_offsets(settings.bootstrap_servers, [topic])
        stable = await end_offsets(settings.bootstrap_servers, [topic], committed=True)
        assert stable[(topic, 1)] < high[(topic, 1)]  # what a committed reader cannot pass
        with pytest.raises(UnstableEnd) as raised:
            await wait_stable(settings.bootstrap_servers, [topic], 1)
        assert f"{topic}[1] committed end" in str(raised.value)
        assert f"{topic}[0]" not in str(raised.value)
        # Read now, the open transaction's record is missing: what a collector saw as stale.
        assert [r.value for r in await read_all(settings.bootstrap_servers, [topic])] == [
            b"decided"
        ]
        await producer.commit_transaction()
        # What it returns is where the partition ends with the commit marker in: the high
        # watermark once nothing else is written (a worker handing the partition over
        # compares it with the end it finds when the partition comes back).
        stable = await wait_stable(settings.bootstrap_servers, [topic], 30, {1})
        assert stable == {
            (topic, 1): (await end_offsets(settings.bootstrap_servers, [topic]))[(topic, 1)]
        }
        assert stable[(topic, 1)] == high[(topic, 1)] + 1  # the marker takes an offset
        values = sorted(r.value for r in await read_all(settings.bootstrap_servers, [topic]))
        assert values == [b"decided", b"open"]
    finally:
        await producer.stop()
