"""`make demo`: real Kafka + Redis, a worker, a small workload, and the result read back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

import localinfra
from config import Settings
from streams import codec
from streams.app import redis_projection
from streams.handlers import Source, replay_purchases
from streams.topic_reader import Record, produce, read_until
from streams.topics import TopicNames, ensure_topics

MEMBERS = [f"M{n:04d}" for n in range(1, 9)]
WAIT_S = 120.0


def sample_messages() -> list[tuple[bytes | None, bytes]]:
    """40 purchases skewed towards a few members, two redeliveries and two bad messages."""
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    messages: list[tuple[bytes | None, bytes]] = []
    for n in range(40):
        # Pareto-ish: member i gets roughly 1/(i+1) of the traffic.
        member = MEMBERS[min(int(len(MEMBERS) * (n * 7 % 40) ** 2 / 1600), len(MEMBERS) - 1)]
        amount = Decimal(17 + (n * 37) % 230) + Decimal(n % 100) / 100
        event = {
            "event_id": f"purchase-{n:04d}",
            "type": "purchase",
            "member_id": member,
            "occurred_at": (start + timedelta(hours=n)).isoformat(),
            "merchant": ["grocer", "airline-shop", "fuel"][n % 3],
            "category": ["food", "travel", "fuel"][n % 3],
            "amount": str(amount),
            "currency": "EUR",
            "sale_id": f"sale-{n:04d}",
        }
        messages.append((member.encode(), orjson.dumps(event)))
    messages.append(messages[3])  # an upstream retry: the same event twice
    messages.append(messages[17])
    messages.append((b"M0001", b"{not json"))
    messages.append((b"M0002", messages[5][1].replace(b'"EUR"', b'"euro"')))
    return messages


def run_demo(base: Settings, keep_infra: bool = False) -> int:
    before = localinfra.status(base)
    print("starting Kafka and Redis ...")
    try:
        state = localinfra.up(base)
    except localinfra.InfraError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print("\n".join(state.lines()))
    started_here = not (before.broker_up and before.redis_up)
    settings = base.model_copy(update={"namespace": f"demo-{int(time.time())}"})
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        worker = _start_worker(settings)
        return asyncio.run(_run(settings, worker, idempotent=state.broker != "embedded"))
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if started_here and not keep_infra:
            print("stopping Kafka and Redis: " + ", ".join(localinfra.down(base)))


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    log_path = settings.state_dir / "run" / f"{settings.namespace}-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LOYALTY_NAMESPACE": settings.namespace,
        "LOYALTY_KAFKA_BOOTSTRAP": settings.bootstrap_servers,
        "REDIS_URL": settings.effective_redis_url,
    }
    print(f"starting the worker (log: {log_path})")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _run(settings: Settings, worker: subprocess.Popen[bytes], idempotent: bool) -> int:
    names = TopicNames(settings.namespace)
    messages = sample_messages()
    await produce(settings.bootstrap_servers, names.purchases, messages, idempotent)
    print(f"produced {len(messages)} messages to {names.purchases}")
    expected = replay_purchases(
        [Source(names.purchases, 0, i, k, v) for i, (k, v) in enumerate(messages)],
        settings.points_per_unit,
    )

    def finished(records: list[Record]) -> bool:
        if worker.poll() is not None:
            return True
        latest = _latest_status(records, names.member_status)
        caught_up = all(
            latest.get(m, {}).get("version") == r["version"] for m, r in expected.members.items()
        )
        side = sum(1 for r in records if r.topic in (names.ops, names.dead_letters))
        wanted = sum(expected.counts[k] for k in ("duplicate", "rejected", "dead_letter"))
        return caught_up and side >= wanted

    records = await read_until(
        settings.bootstrap_servers,
        [names.member_status, names.ops, names.dead_letters],
        finished,
        WAIT_S,
    )
    if worker.poll() is not None:
        print(f"demo: the worker exited with {worker.returncode}; see its log", file=sys.stderr)
        return 1
    stream = _latest_status(records, names.member_status)
    redis_view = await _read_redis(settings, expected.members)
    return _report(expected.members, expected.counts, stream, redis_view, records, names)


def _latest_status(records: list[Record], topic: str) -> dict[str, dict[str, int]]:
    latest: dict[str, dict[str, int]] = {}
    for record in records:
        if record.topic == topic and record.value is not None:
            status = codec.decode_status(record.value)
            if status.version > latest.get(status.member_id, {}).get("version", -1):
                latest[status.member_id] = {"points": status.points, "version": status.version}
    return latest


async def _read_redis(
    settings: Settings, expected: dict[str, dict[str, object]]
) -> dict[str, dict[str, int]]:
    projection = redis_projection(settings)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    view: dict[str, dict[str, int]] = {}
    while loop.time() < deadline:
        for member in expected:
            status = await projection.get(member)
            if status is not None:
                view[member] = {"points": status.points, "version": status.version}
        if all(view.get(m, {}).get("version") == r["version"] for m, r in expected.items()):
            break
        await asyncio.sleep(0.3)
    await projection.client.aclose()
    return view


def _report(
    expected: dict[str, dict[str, object]],
    counts: dict[str, int],
    stream: dict[str, dict[str, int]],
    redis_view: dict[str, dict[str, int]],
    records: list[Record],
    names: TopicNames,
) -> int:
    print()
    print(f"{'member':<8} {'events':>6} {'expected':>9} {'stream':>9} {'redis':>9}  match")
    ok = True
    for member in sorted(expected):
        want = expected[member]
        got_stream = stream.get(member, {}).get("points")
        got_redis = redis_view.get(member, {}).get("points")
        match = got_stream == want["points"] == got_redis
        ok &= match
        print(
            f"{member:<8} {want['version']!s:>6} {want['points']!s:>9} {got_stream!s:>9} "
            f"{got_redis!s:>9}  {'yes' if match else 'NO'}"
        )
    side = {
        "duplicate": sum(
            1 for r in records if r.topic == names.ops and b'"duplicate"' in (r.value or b"")
        ),
        "rejected": sum(
            1 for r in records if r.topic == names.ops and b'"rejected"' in (r.value or b"")
        ),
        "dead_letter": sum(1 for r in records if r.topic == names.dead_letters),
    }
    applied = sum(int(str(s["version"])) for s in stream.values())
    received = counts["received"]
    reconciled = received == applied + side["duplicate"] + side["rejected"] + side["dead_letter"]
    print()
    print(
        f"received {received} = applied {applied} + duplicates {side['duplicate']} + "
        f"rejected {side['rejected']} + dead letters {side['dead_letter']}: "
        f"{'reconciled' if reconciled else 'DOES NOT RECONCILE'}"
    )
    for record in records:
        if record.topic == names.dead_letters and record.value:
            print(f"  dead letter: {orjson.loads(record.value)['error']}")
    ok &= reconciled
    print("demo: " + ("stream, Redis and offline replay agree" if ok else "MISMATCH"))
    return 0 if ok else 1
