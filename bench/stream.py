"""`python -m bench.stream`: events/s of one engine worker on real Kafka, against two baselines
run in the same invocation on the same file and broker (`make bench` runs these figures and
more; this module also gives `make bench` its passthrough baseline):

- replay: the rulebook alone, no Kafka (`loyalty replay`): the ceiling of the core;
- passthrough: raw aiokafka reading the same input messages and producing one message per
  input, batched, no rules: the ceiling of the transport.

The engine is measured in two layouts: one worker running every agent (`--role all`), and an
engine worker beside a projection worker (`--role engine` + `--role projection`), which keeps
the Redis projection's consuming off the engine's core. The figure is from the first input
produced until every partition has applied the closing flush marker (workers are started and
warmed up before). Medians of `--repeat`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import localinfra
from bench.workload import arguments, cached_workload
from config import Settings
from entrypoints.replay import replay
from entrypoints.verify_stream import produce_file, wait_flushed, warm_up, watched, workers
from streams.topics import TopicNames, delete_namespace, ensure_topics

TARGET = 20_000  # mixed events/s per worker (the benchmark issue's target)


async def passthrough(settings: Settings, sink: str, expected: int) -> float:
    """Seconds to read `expected` input messages and produce one message per input."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    names = TopicNames(settings.namespace)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5
    )
    await consumer.start()
    await producer.start()
    try:
        tps = [TopicPartition(t, p) for t in names.inputs for p in range(settings.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        started = time.perf_counter()
        seen = 0
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for tp, messages in batch.items():
                for m in messages:
                    await producer.send(sink, m.value, m.key, partition=tp.partition)
                seen += len(messages)
        await producer.flush()
        return time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> int:
    args = arguments(__doc__, events=100_000, members=10_000, seed=7)
    program, events = cached_workload(args)

    base = Settings()
    before = localinfra.status(base)
    state = localinfra.up(base)
    print("\n".join(state.lines()))
    work = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    try:
        replays, engines, splits, passes = [], [], [], []
        received = 0
        for n in range(args.repeat):
            started = time.perf_counter()
            summary = replay(events, program, work / f"replay-{n}", progress=False)
            replays.append(time.perf_counter() - started)
            received = summary.received
            engine_s, messages, pass_s = asyncio.run(
                run_once(base, args, events, work / f"all-{n}", split=False)
            )
            split_s, _, _ = asyncio.run(run_once(base, args, events, work / f"split-{n}", True))
            engines.append(engine_s)
            splits.append(split_s)
            passes.append(pass_s)
            print(
                f"run {n + 1}: replay {replays[-1]:.1f} s, engine {engine_s:.1f} s, "
                f"engine + projection worker {split_s:.1f} s, passthrough {pass_s:.1f} s "
                f"({messages:,} messages)",
                flush=True,
            )
    finally:
        if not (before.broker_up and before.redis_up):
            localinfra.down(base)
    replay_rate = received / statistics.median(replays)
    engine_rate = received / statistics.median(engines)
    pass_rate = messages / statistics.median(passes)
    engine_msg_rate = messages / statistics.median(engines)
    split_rate = received / statistics.median(splits)
    split_msg_rate = messages / statistics.median(splits)
    print(f"\n{received:,} events ({messages:,} Kafka messages incl. clock copies), medians:")
    print(f"  replay (core, no Kafka)       {replay_rate:>10,.0f} events/s")
    print(f"  passthrough (raw aiokafka)    {pass_rate:>10,.0f} messages/s")
    per_message = f"({engine_msg_rate:,.0f} messages/s)"
    print(f"  engine, 1 worker (all agents) {engine_rate:>10,.0f} events/s  {per_message}")
    per_message = f"({split_msg_rate:,.0f} messages/s)"
    print(f"  engine worker + projection    {split_rate:>10,.0f} events/s  {per_message}")
    ratio = f"{engine_rate / replay_rate:.2f} (split {split_rate / replay_rate:.2f})"
    print(f"  engine / replay      {ratio}")
    print(
        f"  engine / passthrough {engine_msg_rate / pass_rate:.2f} per message "
        f"(split {split_msg_rate / pass_rate:.2f})"
    )
    print(
        f"  engine / target {TARGET:,}/s: {engine_rate / TARGET:.2f} "
        f"(split {split_rate / TARGET:.2f})"
    )
    return 0


async def run_once(
    base: Settings, args: argparse.Namespace, events: Path, logs: Path, split: bool
) -> tuple[float, int, float]:
    settings = base.model_copy(update={"namespace": f"bench-{uuid.uuid4().hex[:8]}"})
    await ensure_topics(settings)
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "engine" if split else "all"}
    projection_env = {**env, "LOYALTY_ROLE": "projection"}
    with (
        workers(settings, args.program, 1, logs, env) as procs,
        workers(settings, args.program, int(split), logs, projection_env, "projection"),
    ):
        await warm_up(settings, procs, logs)
        marker = f"flush-{uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        messages = await produce_file(settings, events, marker)
        await watched(wait_flushed(settings, marker, 1800), procs, logs)
        engine_s = time.perf_counter() - started
    try:
        if split:
            return engine_s, messages, 0.0  # the transport baseline is taken once per repeat
        # The worker has stopped and the namespace is thrown away: its ledger topic serves as
        # the sink (same partitions, same broker) for the transport baseline.
        pass_s = await passthrough(settings, TopicNames(settings.namespace).ledger, messages)
        return engine_s, messages, pass_s
    finally:
        await delete_namespace(settings)  # leftover topics slow later runs down


if __name__ == "__main__":
    sys.exit(main())
