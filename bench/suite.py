"""`make bench`: every speed figure of the engine in one invocation, beside its baselines.

One real Kafka broker and Redis (started by the project if not running), one generated workload
(Pareto activity; purchases, flights, partner accruals, commands, refunds; ~5% duplicates and
~1% invalid lines; daily clocks over 14 months of history, one in twenty settling transfers as
the deployment's ticks do). Per repeat, on fresh namespaces:

- `core_replay_eps`: `loyalty replay` of the file (the rulebook, no Kafka), interpreted as the
  workers run it here; `core_replay_compiled_eps`: the same with the rulebook compiled by mypyc
  (what the image runs);
- `passthrough_eps`: raw aiokafka reading the input messages and producing one per input;
- `idiomatic_faust_eps`: the same rulebook in a per-event Faust agent (bench/idiomatic.py);
- `engine_eps`: one engine worker running every agent, the file produced while it runs;
- `engine_2_workers_eps`: two engine workers sharing the partitions, beside a projection
  worker, with the partitions each took and the CPU the broker, the load generator and the
  workers used of the machine's cores;
- `backfill_eps`: the whole file already on the topics, one worker started on it, from its
  start (`backfill_after_startup_eps` leaves out `worker_startup_s`, a worker's start-up and
  group join as measured in the live run);
- `engine_compiled_eps`: the one-worker engine run with the rulebook compiled by mypyc, as the
  image (Dockerfile) deploys it;
- `latency_ms` {p50, p95, p99}: one worker, the clock scheduler ticking, 2,000 events/s offered
  (bench/latency.py), from producing an input to its first ledger posting;
- `worker_peak_rss_mb`: the one-worker engine's peak resident memory.

Rates are events (input lines) per second, medians of `--repeat`; ratios are of medians. Writes
`bench/results/latest.json` and `bench/results/latest.png` (figures on a log scale).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

import localinfra
from bench.compiled import compiled_tree, python_with
from bench.core import compiled_replay_rate
from bench.latency import percentile, run_latency
from bench.stream import passthrough
from bench.workload import ROOT
from config import Settings
from edge.program_file import load_program
from entrypoints.generate import generate
from entrypoints.replay import replay
from entrypoints.verify_stream import produce_file, wait_flushed, warm_up, watched, workers
from streams.topic_reader import read_all
from streams.topics import TopicNames, delete_namespace, ensure_topics
from workload.generator import settling_only_every

RESULTS = ROOT / "bench" / "results"
# The generator's own mix has ~1% duplicates and ~2.6% invalid lines; the benchmark's workload
# asks for ~5% and ~1%.
MIX = {"duplicate": 5.4, "invalid": 0.9, "malformed": 0.1}
TARGET_EPS, TARGET_P99_MS = 10_000, 250  # this figures per worker
SETTLE_NTH = 20


@dataclass
class Repeat:
    figures: dict[str, float] = field(default_factory=dict)
    split: dict[str, list[int]] = field(default_factory=dict)  # worker -> partitions
    cpu: dict[str, float] = field(default_factory=dict)  # process -> share of all cores


def workload(args: argparse.Namespace) -> Path:
    """The generated history, with its daily clocks settling transfers as the deployment's
    ticks do: one in `SETTLE_NTH` (docker-compose: ticks every 0.1 s, settling every 2 s)."""
    name = f"suite-{args.events}-{args.members}-{args.seed}-{args.program.stem}-s{SETTLE_NTH}.jsonl"
    path = ROOT / ".loyalty" / "bench" / name
    if not path.exists():
        print(f"generating {args.events:,} events for {args.members:,} members ...", flush=True)
        plain = path.with_suffix(".plain")
        generate(args.members, args.events, args.seed, plain, load_program(args.program), mix=MIX)
        with plain.open("rb") as lines, path.open("wb") as out:
            out.writelines(settling_only_every(lines, SETTLE_NTH))
        plain.unlink()
    return path


# -- process accounting --------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def broker_pid() -> int | None:
    """The local Kafka broker's JVM (started by `loyalty infra up`), if it runs here."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"java" in cmdline and b"kafka" in cmdline:
                return int(entry.name)
    return None


@contextmanager
def cpu_shares(processes: dict[str, int], into: dict[str, float]) -> Iterator[None]:
    """Each process's CPU over the block, as a share of all the machine's cores."""
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    started = time.perf_counter()
    yield
    wall = (time.perf_counter() - started) * (os.cpu_count() or 1)
    for name, pid in processes.items():
        into[name] = (cpu_seconds(pid) - before[name]) / wall


# -- the stream runs ------------------------------------------------------------------------------
_NAMESPACES: list[Settings] = []  # created by `fresh`, deleted at the end of each repeat


def fresh(base: Settings, label: str) -> Settings:
    settings = base.model_copy(update={"namespace": f"bench-{label}-{uuid.uuid4().hex[:6]}"})
    asyncio.run(ensure_topics(settings))
    _NAMESPACES.append(settings)
    return settings


def throw_away_namespaces() -> None:
    """Leftover topics slow the broker down for the runs after them (see delete_namespace)."""
    while _NAMESPACES:
        asyncio.run(delete_namespace(_NAMESPACES.pop()))


def live(
    base: Settings, args: argparse.Namespace, events: Path, logs: Path, repeat: Repeat
) -> tuple[float, int, float]:
    """One worker with every agent; the file produced while it runs. Returns seconds from the
    first input produced to the flush applied everywhere, the messages, and the passthrough
    seconds on the same messages."""
    settings = fresh(base, "live")
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "all"}
    started = time.perf_counter()
    with workers(settings, args.program, 1, logs, env) as procs:
        asyncio.run(warm_up(settings, procs, logs))
        # Process start, group join, topics assigned: what a backfill also pays.
        repeat.figures["worker_startup_s"] = time.perf_counter() - started
        cpu = cpu_seconds(procs[0].pid)
        seconds, messages = asyncio.run(timed_file(settings, events, procs, logs))
        repeat.figures["engine_worker_cpu_s"] = cpu_seconds(procs[0].pid) - cpu
        repeat.figures["worker_peak_rss_mb"] = peak_rss_mb(procs[0].pid)
    # The worker is gone and the namespace is thrown away: its ledger topic is the sink.
    pass_s = asyncio.run(passthrough(settings, TopicNames(settings.namespace).ledger, messages))
    return seconds, messages, pass_s


def live_compiled(
    base: Settings, args: argparse.Namespace, events: Path, logs: Path, repeat: Repeat
) -> float:
    """The same run with the rulebook compiled (bench/compiled.py), as the image runs it."""
    settings = fresh(base, "compiled")
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "all"}
    command = python_with(compiled_tree(), "entrypoints.cli", "worker")
    with workers(settings, args.program, 1, logs, env, "worker", command) as procs:
        asyncio.run(warm_up(settings, procs, logs))
        cpu = cpu_seconds(procs[0].pid)
        seconds, _ = asyncio.run(timed_file(settings, events, procs, logs))
        repeat.figures["engine_compiled_worker_cpu_s"] = cpu_seconds(procs[0].pid) - cpu
    return seconds


async def timed_file(
    settings: Settings, events: Path, procs: list[Any], logs: Path, name: str = "worker"
) -> tuple[float, int]:
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    messages = await produce_file(settings, events, marker)
    await watched(wait_flushed(settings, marker, 3600), procs, logs, name)
    return time.perf_counter() - started, messages


def idiomatic(base: Settings, args: argparse.Namespace, events: Path, logs: Path) -> float:
    settings = fresh(base, "faust")
    command = [sys.executable, "-m", "bench.idiomatic"]
    with workers(settings, args.program, 1, logs, {}, "idiomatic", command) as procs:
        asyncio.run(warm_up(settings, procs, logs, "idiomatic"))
        seconds, _ = asyncio.run(timed_file(settings, events, procs, logs, "idiomatic"))
    return seconds


def two_workers(
    base: Settings, args: argparse.Namespace, events: Path, logs: Path, repeat: Repeat
) -> float:
    settings = fresh(base, "two")
    settings = settings.model_copy(update={"metrics_interval_s": 1.0})
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "engine"}
    projection = {**env, "LOYALTY_ROLE": "projection"}
    with (
        workers(settings, args.program, 2, logs, env, "engine") as procs,
        workers(settings, args.program, 1, logs, projection, "projection") as more,
    ):
        asyncio.run(warm_up(settings, procs, logs, "engine"))
        watch: dict[str, int] = {"load generator (bench)": os.getpid()}
        watch |= {f"engine worker {n}": p.pid for n, p in enumerate(procs)}
        watch["projection worker"] = more[0].pid
        kafka = broker_pid()
        if kafka is not None:
            watch["Kafka broker"] = kafka
        with cpu_shares(watch, repeat.cpu):
            seconds, _ = asyncio.run(timed_file(settings, events, procs, logs, "engine"))
        time.sleep(1.5)  # one more metrics record per worker, with its partitions
    repeat.split = asyncio.run(partitions_by_worker(settings))
    return seconds


async def partitions_by_worker(settings: Settings) -> dict[str, list[int]]:
    """From each worker's latest metrics record: the input partitions it read."""
    names = TopicNames(settings.namespace)
    records = await read_all(settings.bootstrap_servers, [names.ops], 10.0)
    held: dict[str, set[int]] = {}
    for record in records:
        if record.value and b'"metrics"' in record.value:
            metrics = orjson.loads(record.value)
            if metrics.get("kind") == "metrics" and metrics["lag"]:
                partitions = {int(k.rsplit(":", 1)[1]) for k in metrics["lag"]}
                held[metrics["worker"]] = partitions
    return {worker: sorted(p) for worker, p in sorted(held.items())}


def backfill(base: Settings, args: argparse.Namespace, events: Path, logs: Path) -> float:
    """The history is on the topics before the worker starts; from its start to the flush
    marker applied everywhere (start-up and group join included)."""
    settings = fresh(base, "backfill")
    marker = f"flush-{uuid.uuid4().hex[:6]}"
    asyncio.run(produce_file(settings, events, marker))
    env = {"LOYALTY_LOGLEVEL": "error", "LOYALTY_ROLE": "all"}
    started = time.perf_counter()
    with workers(settings, args.program, 1, logs, env) as procs:
        asyncio.run(watched(wait_flushed(settings, marker, 3600), procs, logs))
    return time.perf_counter() - started


def latency(base: Settings, args: argparse.Namespace, events: Path) -> dict[str, float]:
    run_args = argparse.Namespace(
        rate=args.rate, seconds=args.seconds, every=0.1, lag=0.0, settle_every=2.0,
        program=args.program,
    )  # fmt: skip
    _, (_, _, latencies) = run_latency(base, run_args, events)
    ms = [1000 * v for v in latencies] or [float("nan")]
    return {f"p{int(q * 100)}": percentile(ms, q) for q in (0.5, 0.95, 0.99)}


# -- one repeat, and the summary -------------------------------------------------------------------
def run_repeat(
    base: Settings, args: argparse.Namespace, events: Path, logs: Path, n: int
) -> Repeat:
    repeat = Repeat()
    program = load_program(args.program)
    started = time.perf_counter()
    received = replay(events, program, logs / f"replay-{n}", progress=False).received
    figures = repeat.figures
    figures["received"] = received
    figures["core_replay_eps"] = received / (time.perf_counter() - started)
    figures["core_replay_compiled_eps"] = compiled_replay_rate(events, args.program, 1)
    # Each run on a namespace of its own, thrown away after it: every run meets the broker
    # as the first did.
    engine_s, messages, pass_s = live(base, args, events, logs / f"live-{n}", repeat)
    throw_away_namespaces()
    figures["engine_eps"] = received / engine_s
    figures["engine_compiled_eps"] = received / live_compiled(
        base, args, events, logs / f"compiled-{n}", repeat
    )
    throw_away_namespaces()
    # The worker shares 2 cores with the broker, the load generator and Redis: events per
    # second of the worker's own CPU is what one worker does with a core to itself.
    figures["engine_per_cpu_eps"] = received / figures["engine_worker_cpu_s"]
    figures["engine_compiled_per_cpu_eps"] = received / figures["engine_compiled_worker_cpu_s"]
    figures["messages"] = messages
    figures["passthrough_eps"] = received / pass_s
    figures["passthrough_msgs"] = messages / pass_s
    figures["idiomatic_faust_eps"] = received / idiomatic(base, args, events, logs / f"f-{n}")
    throw_away_namespaces()
    figures["engine_2_workers_eps"] = received / two_workers(
        base, args, events, logs / f"two-{n}", repeat
    )
    throw_away_namespaces()
    backfill_s = backfill(base, args, events, logs / f"back-{n}")
    throw_away_namespaces()
    figures["backfill_eps"] = received / backfill_s
    figures["backfill_after_startup_eps"] = received / (backfill_s - figures["worker_startup_s"])
    for name, value in latency(base, args, events).items():
        figures[f"latency_{name}_ms"] = value
    print(f"run {n + 1}: " + ", ".join(f"{k} {v:,.1f}" for k, v in figures.items()), flush=True)
    return repeat


def summarise(args: argparse.Namespace, repeats: list[Repeat]) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(r.figures[key] for r in repeats)

    engine = median("engine_eps")
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench BENCH_ARGS=" + repr(" ".join(sys.argv[1:])),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "workload": {
            "events": args.events,
            "members": args.members,
            "seed": args.seed,
            "program": args.program.name,
            "mix_overrides": MIX,
            "received": int(median("received")),
            "kafka_messages": int(median("messages")),
        },
        "repeats": len(repeats),
        "passthrough_eps": median("passthrough_eps"),
        "passthrough_msgs_per_s": median("passthrough_msgs"),
        "idiomatic_faust_eps": median("idiomatic_faust_eps"),
        "engine_eps": engine,
        "engine_2_workers_eps": median("engine_2_workers_eps"),
        "core_replay_eps": median("core_replay_eps"),
        "core_replay_compiled_eps": median("core_replay_compiled_eps"),
        "backfill_eps": median("backfill_eps"),
        "backfill_after_startup_eps": median("backfill_after_startup_eps"),
        "engine_compiled_eps": median("engine_compiled_eps"),
        "engine_per_cpu_eps": median("engine_per_cpu_eps"),
        "engine_compiled_per_cpu_eps": median("engine_compiled_per_cpu_eps"),
        "worker_startup_s": median("worker_startup_s"),
        "latency_ms": {q: median(f"latency_{q}_ms") for q in ("p50", "p95", "p99")},
        "latency_offered_eps": args.rate,
        "worker_peak_rss_mb": median("worker_peak_rss_mb"),
        "two_workers": {"partitions": repeats[-1].split, "cpu_share": repeats[-1].cpu},
    }
    result["ratios"] = {
        "engine_vs_idiomatic_faust": engine / result["idiomatic_faust_eps"],
        "engine_vs_passthrough": engine / result["passthrough_eps"],
        "engine_vs_core_replay": engine / result["core_replay_eps"],
        "two_workers_vs_one": result["engine_2_workers_eps"] / engine,
        "backfill_vs_live": result["backfill_eps"] / engine,
        "engine_compiled_vs_engine": result["engine_compiled_eps"] / engine,
        "engine_compiled_vs_target": result["engine_compiled_eps"] / TARGET_EPS,
        "engine_vs_target": engine / TARGET_EPS,
        "engine_per_cpu_vs_target": result["engine_per_cpu_eps"] / TARGET_EPS,
        "engine_compiled_per_cpu_vs_target": result["engine_compiled_per_cpu_eps"] / TARGET_EPS,
        "latency_p99_vs_target": result["latency_ms"]["p99"] / TARGET_P99_MS,
    }
    result["runs"] = [r.figures for r in repeats]
    return result


def print_table(result: dict[str, Any]) -> None:
    rows = [
        ("raw aiokafka passthrough", result["passthrough_eps"], "events/s"),
        ("rulebook, replay (compiled)", result["core_replay_compiled_eps"], "events/s"),
        ("rulebook, replay (interpreted)", result["core_replay_eps"], "events/s"),
        ("engine, 2 workers + projection", result["engine_2_workers_eps"], "events/s"),
        ("engine, 1 worker, rulebook compiled", result["engine_compiled_eps"], "events/s"),
        ("engine, 1 worker", result["engine_eps"], "events/s"),
        ("  per second of its own CPU", result["engine_per_cpu_eps"], "events/s"),
        ("  the same, rulebook compiled", result["engine_compiled_per_cpu_eps"], "events/s"),
        ("engine, 1 worker, backfill", result["backfill_eps"], "events/s"),
        ("  the same after start-up", result["backfill_after_startup_eps"], "events/s"),
        ("idiomatic Faust agent", result["idiomatic_faust_eps"], "events/s"),
        ("worker peak RSS", result["worker_peak_rss_mb"], "MB"),
    ]
    workload = result["workload"]
    print(
        f"\n{workload['received']:,} events ({workload['kafka_messages']:,} Kafka messages), "
        f"medians of {result['repeats']}:"
    )
    for label, value, unit in rows:
        print(f"  {label:<34} {value:>12,.0f} {unit}")
    lat = result["latency_ms"]
    print(
        f"  latency at {result['latency_offered_eps']:,.0f}/s offered: p50 {lat['p50']:,.0f} ms, "
        f"p95 {lat['p95']:,.0f} ms, p99 {lat['p99']:,.0f} ms"
    )
    print("  ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in result["ratios"].items()))
    two = result["two_workers"]
    print(f"  two workers' partitions: {two['partitions']}")
    print("  CPU over the two-worker run, share of all cores: " + ", ".join(
        f"{k} {v:.0%}" for k, v in two["cpu_share"].items()
    ))  # fmt: skip


def chart(result: dict[str, Any], path: Path) -> None:
    """Events/s per figure on a log scale, the targets drawn in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [
        ("aiokafka\npassthrough", result["passthrough_eps"]),
        ("replay\ncompiled", result["core_replay_compiled_eps"]),
        ("replay", result["core_replay_eps"]),
        ("engine\n2 workers", result["engine_2_workers_eps"]),
        ("engine\n1 worker\ncompiled", result["engine_compiled_eps"]),
        ("engine\n1 worker", result["engine_eps"]),
        ("engine\nbackfill", result["backfill_eps"]),
        ("idiomatic\nFaust", result["idiomatic_faust_eps"]),
    ]
    figure, (rates, waits) = plt.subplots(
        1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 1]}
    )
    labels, values = zip(*bars, strict=True)
    drawn = rates.bar(labels, values, color=["#999"] * 3 + ["#2a6"] * 4 + ["#c84"])
    rates.bar_label(drawn, labels=[f"{v:,.0f}" for v in values], fontsize=8)
    rates.set_yscale("log")
    rates.set_ylim(bottom=100)  # a fixed floor: bars keep their proportions from run to run
    rates.axhline(TARGET_EPS, color="#c33", linestyle="--", linewidth=1)
    rates.text(len(bars) - 0.5, TARGET_EPS * 1.1, f"target {TARGET_EPS:,}/s", ha="right")
    rates.set_ylabel("events/s (log scale)")
    rates.set_title(
        f"{result['workload']['received']:,} events, medians of {result['repeats']}", fontsize=10
    )
    lat = result["latency_ms"]
    waits.bar(["p50", "p95", "p99"], [lat["p50"], lat["p95"], lat["p99"]], color="#48c")
    waits.axhline(TARGET_P99_MS, color="#c33", linestyle="--", linewidth=1)
    waits.text(-0.4, TARGET_P99_MS * 1.03, f"p99 target {TARGET_P99_MS} ms", ha="left")
    waits.set_ylabel("ms, produce to ledger posting")
    waits.set_title(f"latency at {result['latency_offered_eps']:,.0f} events/s", fontsize=10)
    figure.suptitle(f"make bench, {result['when']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2000.0, help="offered events/s (latency)")
    parser.add_argument("--seconds", type=float, default=15.0, help="of the latency run")
    parser.add_argument("--program", type=Path, default=ROOT / "programs/airline.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    events = workload(args)
    base = Settings()
    before = localinfra.status(base)
    print("\n".join(localinfra.up(base).lines()), flush=True)
    logs = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    print(f"worker logs in {logs}", flush=True)
    try:
        repeats = [run_repeat(base, args, events, logs, n) for n in range(args.repeat)]
    finally:
        if not (before.broker_up and before.redis_up):
            localinfra.down(base)
    result = summarise(args, repeats)
    print_table(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    chart(result, args.out / "latest.png")
    print(f"\nwrote {args.out / 'latest.json'} and {args.out / 'latest.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
