"""`python -m bench.latency`: how long an input waits to take effect in the stream engine (the
latency figure of `make bench`, alone and with its parameters: rate, tick interval, settling).

One worker on a real Kafka broker (started by the project), the clock scheduler running as a
deployment runs it (`--every`, `--lag`), and a producer offering `--rate` mixed events/s of the
generated workload for `--seconds`, each stamped with the moment it is produced. A consumer of
the ledger topic takes, for every input that posted, the time from its production to its first
posting on the output topic. Prints p50/p95/p99/max, and the applied rate.

An input is applied when the next tick closes its epoch (and, at a tick that settles
transfers, `--settle-every`, when every partition has passed the tick's barrier), so the
figures are bounded below by the tick interval.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

import localinfra
from bench.workload import ROOT, cached_workload
from config import Settings
from entrypoints.verify_stream import warm_up, watched, workers
from schemas import events as wire
from streams.partitioning import partition_of
from streams.scheduler import run_scheduler
from streams.topics import TopicNames, delete_namespace, ensure_topics

# Every input a producer may send (the wire's external types), clock ticks excepted.
INPUT_TYPES = {
    m.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for m in wire.EXTERNAL_MODELS
} - {"clock"}


def workload_events(path: Path, run: str) -> list[dict[str, Any]]:
    """The workload's member inputs (its own clock lines and malformed lines left out: time
    comes from the scheduler), with ids made unique to this run."""
    events = []
    for line in path.read_bytes().splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if (
            isinstance(event, dict)
            and event.get("type") in INPUT_TYPES
            and isinstance(event.get("member_id"), str)
            and isinstance(event.get("event_id"), str)
        ):
            event["event_id"] = f"{run}-{event['event_id']}"
            events.append(event)
    return events


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Measured = tuple[float, int, list[float]]  # offered events/s, inputs produced, latencies (s)


async def measure(
    settings: Settings, args: argparse.Namespace, events: list[dict[str, Any]]
) -> Measured:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    names = TopicNames(settings.namespace)
    sent: dict[str, float] = {}
    latencies: dict[str, float] = {}
    consumer = AIOKafkaConsumer(
        names.ledger,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=2)
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()

    async def consume() -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for record in records:
                    cause = orjson.loads(record.value or b"{}").get("cause")
                    if cause in sent and cause not in latencies:
                        latencies[cause] = now - sent[cause]

    reader = asyncio.create_task(consume())
    total = int(args.rate * args.seconds)
    started = time.time()
    try:
        for n, event in enumerate(events[:total]):
            due = started + n / args.rate
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            event["occurred_at"] = datetime.fromtimestamp(now, UTC).isoformat()
            member = event["member_id"]
            await producer.send(
                names.for_type(event["type"]),
                orjson.dumps(event),
                member.encode(),
                partition=partition_of(member, settings.partitions),
            )
            sent[event["event_id"]] = now
        await producer.flush()
        offered = min(total, len(events)) / (time.time() - started)
        # Wait for the stragglers: until no new posting for a few tick intervals.
        quiet_for = max(5.0, 4 * args.every)
        last, seen = time.time(), len(latencies)
        while time.time() - last < quiet_for:
            await asyncio.sleep(0.5)
            if len(latencies) != seen:
                last, seen = time.time(), len(latencies)
    finally:
        stop.set()
        await reader
        await consumer.stop()
        await producer.stop()
    return offered, len(sent), list(latencies.values())


def run_latency(base: Settings, args: argparse.Namespace, path: Path) -> tuple[Settings, Measured]:
    """One worker (every agent) on a fresh namespace of the running broker, the clock
    scheduler ticking, `args.rate` events/s offered for `args.seconds`."""
    run = uuid.uuid4().hex[:6]
    events = workload_events(path, run)
    logs = Path(tempfile.mkdtemp(prefix="loyalty-latency-"))
    print(f"latency run {run}: worker log in {logs}", flush=True)
    settings = base.model_copy(update={"namespace": f"lat-{run}"})
    asyncio.run(ensure_topics(settings))
    try:
        return settings, _measure_with_worker(settings, args, events, logs)
    finally:
        asyncio.run(delete_namespace(settings))  # leftover topics slow later runs down


def _measure_with_worker(
    settings: Settings, args: argparse.Namespace, events: list[dict[str, Any]], logs: Path
) -> Measured:
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "all"}
    with workers(settings, args.program, 1, logs, env) as procs:

        async def go() -> Measured:
            await warm_up(settings, procs, logs)
            every, lag = timedelta(seconds=args.every), timedelta(seconds=args.lag)
            settle = timedelta(seconds=args.settle_every)
            clock = asyncio.create_task(run_scheduler(settings, every, lag, settle_every=settle))
            try:
                return await watched(measure(settings, args, events), procs, logs)
            finally:
                clock.cancel()

        return asyncio.run(go())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2000.0, help="offered events/s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between ticks")
    parser.add_argument("--lag", type=float, default=0.0, help="seconds ticks trail wall time")
    parser.add_argument(
        "--settle-every", type=float, default=2.0, help="seconds between ticks that settle"
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--program", type=Path, default=ROOT / "programs/airline.yaml")
    args = parser.parse_args()
    _, path = cached_workload(args)
    base = Settings()
    before = localinfra.status(base)
    print("\n".join(localinfra.up(base).lines()))
    try:
        settings, (offered, produced, latencies) = run_latency(base, args, path)
    finally:
        if not (before.broker_up and before.redis_up):
            localinfra.down(base)
    if not latencies:
        print("no input took effect: see the worker log (its folder is printed above)")
        return 1
    ms = [1000 * v for v in latencies]
    print(
        f"\noffered {offered:,.0f} events/s for {args.seconds:.0f} s ({produced:,} inputs), "
        f"ticks every {args.every:g} s (lag {args.lag:g} s, settling every "
        f"{args.settle_every:g} s), 1 worker, "
        f"{settings.partitions} partitions"
    )
    print(
        f"inputs that posted: {len(ms):,}; latency produce -> first ledger posting, ms: "
        f"p50 {percentile(ms, 0.5):,.0f}  p95 {percentile(ms, 0.95):,.0f}  "
        f"p99 {percentile(ms, 0.99):,.0f}  max {max(ms):,.0f}  mean {statistics.mean(ms):,.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
