"""`make demo`: real Kafka + Redis, the engine worker on a generated workload, and the result
read back: member tiers, classes and stages, a few member events, the grading thresholds, the
reconciliation of every input, the Redis read model, and the comparison with `loyalty replay`.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

import localinfra
from config import Settings
from edge.program_file import load_program
from entrypoints.replay import replay
from entrypoints.verify_stream import (
    StreamResult,
    collect,
    differences,
    produce_file,
    watched,
    workers,
)
from streams.app import redis_projection
from streams.topic_reader import Record, read_until
from streams.topics import TopicNames, ensure_topics
from workload.generator import Workload

PROGRAM = Path("programs/airline.yaml")
MEMBERS, EVENTS, SEED = 60, 2500, 11
WAIT_S = 180.0
SHOWN = 12


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
    settings = base.model_copy(
        update={
            "namespace": f"demo-{int(time.time())}",
            "program": PROGRAM.resolve(),
            "metrics_interval_s": 1.0,
        }
    )
    try:
        return _demo(settings, idempotent=state.broker != "embedded")
    finally:
        if started_here and not keep_infra:
            print("stopping Kafka and Redis: " + ", ".join(localinfra.down(base)))


def _demo(settings: Settings, idempotent: bool) -> int:
    program = load_program(PROGRAM)
    run = settings.state_dir / "run" / settings.namespace
    run.mkdir(parents=True, exist_ok=True)
    events = run / "events.jsonl"
    with events.open("wb") as out:
        out.writelines(Workload(MEMBERS, EVENTS, SEED, program).lines())
    summary = replay(events, program, run / "replay", progress=False)
    print(
        f"generated {summary.received} events for {MEMBERS} members over 420 days "
        f"(purchases, flights, partners, redemptions, transfers, status matches, clocks, "
        f"duplicates and invalid input) in {events}"
    )
    asyncio.run(ensure_topics(settings))
    marker = f"flush-{uuid.uuid4().hex[:8]}"
    print(f"starting the engine worker (log: {run / 'worker-0.log'})")
    # The embedded broker has no transactions (nor idempotent producers).
    env = {} if idempotent else {"LOYALTY_STATE_TRANSACTIONS": "false"}
    with workers(settings, PROGRAM, 1, run, env) as procs:
        produced = asyncio.run(produce_file(settings, events, marker, idempotent))
        print(f"produced {produced} messages (clock ticks go to every input partition)")
        result = asyncio.run(watched(collect(settings, marker, WAIT_S), procs, run))
        metrics = asyncio.run(watched(_final_metrics(settings, produced), procs, run))
    redis_view = asyncio.run(_redis(settings, result))
    found = differences(run / "replay", result, program)
    ok = _report(settings, result, redis_view, metrics, produced)
    if found:
        for line in found[:10]:
            print("DIFF", line)
    print(
        f"stream vs `loyalty replay`: {len(result.members)} members and "
        f"{len(result.postings)} ledger postings compared: "
        + ("identical" if not found else f"{len(found)} differences")
    )
    ok = ok and not found
    print("demo: " + ("stream, Redis and offline replay agree" if ok else "MISMATCH"))
    return 0 if ok else 1


async def _final_metrics(settings: Settings, produced: int) -> dict[str, Any]:
    """The worker's metrics once it has counted every input message."""
    names = TopicNames(settings.namespace)
    latest: dict[str, Any] = {}

    def done(records: list[Record]) -> bool:
        for r in records:
            if r.value and b'"metrics"' in r.value:
                record = orjson.loads(r.value)
                # Counts settle once every message has reached an outcome.
                if (
                    record.get("kind") == "metrics"
                    and record["received"] >= produced
                    and record["reconciled"]
                ):
                    latest.update(record)
                    return True
        return False

    await read_until(settings.bootstrap_servers, [names.ops], done, WAIT_S)
    return latest


async def _redis(settings: Settings, result: StreamResult) -> dict[str, Any]:
    projection = redis_projection(settings)
    view: dict[str, Any] = {}
    try:
        for _ in range(100):
            for member in result.statuses:
                stored = await projection.get(member)
                if stored is not None:
                    view[member] = stored
            if all(m in view and view[m].version >= s.version for m, s in result.statuses.items()):
                break
            await asyncio.sleep(0.3)
    finally:
        await projection.client.aclose()
    return view


def _report(
    settings: Settings,
    result: StreamResult,
    redis_view: dict[str, Any],
    metrics: dict[str, Any],
    produced: int,
) -> bool:
    print()
    print(
        f"{'member':<9} {'tier':<7} {'class':<16} {'stage':<12} {'points':>8} {'redis':>8}  match"
    )
    ok = True
    top = sorted(result.members.values(), key=lambda s: (-s.balance, s.member_id))[:SHOWN]
    for state in top:
        status = result.statuses.get(state.member_id)
        stored = redis_view.get(state.member_id)
        match = (
            status is not None
            and stored is not None
            and stored.points == status.points
            and stored.tier == state.tier
        )
        ok &= match
        print(
            f"{state.member_id:<9} {state.tier:<7} {state.class_code or '-':<16} "
            f"{state.stage:<12} {status.points if status else '-':>8} "
            f"{stored.points if stored else '-':>8}  {'yes' if match else 'NO'}"
        )
    missing = [m for m in result.statuses if m not in redis_view]
    if missing:
        ok = False
        print(f"not in Redis: {len(missing)} members, e.g. {missing[:3]}")
    print(f"... {len(result.members)} members in all; Redis holds all {len(redis_view)}.")
    changes = [o for o in result.member_events if o["type"] in ("tier_changed", "class_changed")]
    print()
    print("a few member events (member-events topic):")
    for record in changes[:3] + changes[-3:]:
        print(
            f"  {record['at'][:10]} {record['member_id']} {record['type']}: "
            f"{record.get('from')} -> {record.get('to')} ({record['reason']})"
        )
    gradings = [o for o in result.ops if o.get("kind") == "grading" and o["partition"] == 0]
    if gradings:
        print("relative classification (thresholds merged from every partition):")
        for g in gradings[-3:]:
            print(f"  {g['period']} {g['segment']}: {g['members']} members, {g['thresholds']}")
    print()
    if metrics:
        reconciled = metrics["received"] == produced and metrics["reconciled"]
        print(
            f"received {metrics['received']} messages = applied {metrics['applied']} + "
            f"duplicates {metrics['duplicates']} + rejected {metrics['rejected']} + "
            f"dead letters {metrics['dead_letters']} + clock copies {metrics['watermarks']}: "
            + ("reconciled" if reconciled else "DOES NOT RECONCILE")
        )
        ok &= reconciled
    else:
        ok = False
        print("no metrics record from the worker")
    return ok
