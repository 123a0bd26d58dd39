"""The `loyalty` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import get_args

from config import Role, Settings
from loyalty.program import Program


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loyalty", description="Loyalty points engine")
    commands = parser.add_subparsers(dest="command", required=True)

    infra = commands.add_parser("infra", help="local Kafka and Redis: up | down | status")
    infra.add_argument("action", choices=["up", "down", "status"])

    commands.add_parser("topics", help="create the engine's topics (idempotent)")
    commands.add_parser("gateway", help="serve the HTTP gateway (LOYALTY_GATEWAY_* settings)")

    worker = commands.add_parser("worker", help="run a stream worker until stopped")
    worker.add_argument(
        "--loglevel",
        default=os.environ.get("LOYALTY_LOGLEVEL", "warn"),
        choices=["crit", "error", "warn", "info"],
    )
    worker.add_argument(
        "--role",
        choices=get_args(Role),
        help="engine agents, the Redis projection, or both (default: LOYALTY_ROLE or all)",
    )

    clock = commands.add_parser(
        "clock", help="publish clock ticks (event time) to every input partition until stopped"
    )
    # A quarter second: measured p99 ~0.5 s from produce to posting at 2,000 events/s on one
    # worker (docs/stream.md, Latency); a minute-scale tick would hold every input that long.
    clock.add_argument("--every", type=float, default=0.1, help="seconds between ticks")
    clock.add_argument(
        "--lag", type=float, default=1.0, help="seconds a tick trails the wall clock"
    )
    clock.add_argument(
        "--settle-every",
        type=float,
        help="seconds between ticks that settle transfers between members (a multiple of "
        "--every; default: the shortest multiple of it from 2 s); only these make every "
        "partition wait for the others",
    )
    clock.add_argument("--once", action="store_true", help="publish the current tick and exit")

    demo = commands.add_parser("demo", help="run the engine on sample data and show the result")
    demo.add_argument("--keep-infra", action="store_true", help="leave Kafka and Redis running")

    gen = commands.add_parser("generate", help="write a deterministic workload (JSON Lines)")
    gen.add_argument("--members", type=int, required=True)
    gen.add_argument("--events", type=int, required=True)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--program", type=Path, help="tailor partners/carriers to this programme")

    rep = commands.add_parser("replay", help="apply an events file through the core, no Kafka")
    rep.add_argument("events", type=Path)
    rep.add_argument("--program", type=Path, required=True)
    rep.add_argument("--out", type=Path, required=True)

    report = commands.add_parser("report", help="reports over an events file")
    report.add_argument("kind", choices=["grades", "liability"])
    report.add_argument("events", type=Path)
    report.add_argument("--program", type=Path, required=True)
    report.add_argument("--out", type=Path, required=True)
    report.add_argument(
        "--as-of", type=date.fromisoformat, help="liability: at the end of this day (YYYY-MM-DD)"
    )

    verify = commands.add_parser(
        "verify-stream", help="run the stream engine on a file and compare it with replay"
    )
    verify.add_argument("events", type=Path)
    verify.add_argument("--program", type=Path, required=True)
    verify.add_argument("--workers", type=int, default=1, help="engine worker processes")
    verify.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    verify.add_argument("--out", type=Path, help="keep replay output and worker logs here")

    whatif = commands.add_parser(
        "whatif", help="the same history under two programmes: report.json and report.html"
    )
    whatif.add_argument("events", type=Path)
    whatif.add_argument("--baseline", type=Path, required=True, help="the programme in force")
    whatif.add_argument("--candidate", type=Path, required=True, help="the programme weighed")
    whatif.add_argument("--out", type=Path, required=True)
    whatif.add_argument(
        "--as-of", type=date.fromisoformat, help="at the end of this day (YYYY-MM-DD)"
    )

    program = commands.add_parser("program", help="programme files: check")
    program.add_argument("action", choices=["check"])
    program.add_argument("path", type=Path, help="the programme (YAML)")

    schemas = commands.add_parser(
        "schemas", help="export the JSON Schema of every wire model and the AsyncAPI document"
    )
    schemas.add_argument("action", nargs="?", choices=["export"], default="export")
    schemas.add_argument("--out", type=Path, default=Path("schemas/json"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    if args.command == "replay":
        return _replay(args)
    if args.command == "report":
        return _report(args)
    if args.command == "whatif":
        return _whatif(args)
    if args.command == "program":
        from edge.program_summary import summarize

        loaded = _load_program(args.path)  # exits 2 with every problem, path and line
        assert isinstance(loaded, Program)
        print(summarize(loaded), end="")
        return 0
    if args.command == "schemas":
        from edge.schema_export import export_json_schemas

        for path in export_json_schemas(args.out):
            print(path)
        return 0
    settings = Settings()
    if args.command == "infra":
        return _infra(settings, args.action)
    if args.command == "topics":
        from streams.topics import ensure_topics

        created = asyncio.run(ensure_topics(settings))
        print("created: " + (", ".join(created) or "nothing (all exist)"))
        return 0
    if args.command == "gateway":
        from gateway.server import run_gateway

        return run_gateway(settings)
    if args.command == "verify-stream":
        from entrypoints.verify_stream import verify_stream

        _load_program(args.program)  # a readable error for a bad programme, before any work
        return verify_stream(
            args.events, args.program, settings, args.workers, args.timeout, args.out
        )
    if args.command == "clock":
        return _clock(settings, args)
    if args.command == "worker":
        from entrypoints.worker import run_worker

        if args.role:
            settings = settings.model_copy(update={"role": args.role})
        run_worker(settings, args.loglevel)
        return 0
    from entrypoints.demo import run_demo

    return run_demo(settings, keep_infra=args.keep_infra)


def _clock(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from streams.scheduler import default_settle_every, run_scheduler
    from streams.topics import ensure_topics

    if args.every <= 0 or args.lag < 0:
        print("--every must be positive and --lag not negative", file=sys.stderr)
        return 2
    every, lag = timedelta(seconds=args.every), timedelta(seconds=args.lag)
    settle_every = (
        default_settle_every(every)
        if args.settle_every is None
        else timedelta(seconds=args.settle_every)
    )
    if settle_every <= timedelta(0) or settle_every % every:
        print("--settle-every must be a positive multiple of --every", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def run() -> int:
        await ensure_topics(settings)
        return await run_scheduler(settings, every, lag, once=args.once, settle_every=settle_every)

    try:
        published = asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    print(f"published {published} tick(s)")
    return 0


def _load_program(path: Path | None) -> object:
    from edge.program_file import ProgramError, load_program

    if path is None:
        return None
    try:
        return load_program(path)
    except ProgramError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _generate(args: argparse.Namespace) -> int:
    from entrypoints.generate import generate
    from loyalty.program import Program

    program = _load_program(args.program)
    assert program is None or isinstance(program, Program)
    written = generate(args.members, args.events, args.seed, args.out, program)
    print(f"wrote {written:,} events to {args.out}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    import time

    from entrypoints.replay import replay
    from loyalty.program import Program

    program = _load_program(args.program)
    assert isinstance(program, Program)
    if not args.events.exists():
        print(f"{args.events}: no such file", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = replay(args.events, program, args.out)
    elapsed = time.perf_counter() - started
    print(
        f"received {summary.received:,} = applied {summary.applied:,} + duplicates "
        f"{summary.duplicates:,} + rejected {summary.rejected:,}; {summary.members:,} members, "
        f"{summary.postings:,} postings in {elapsed:.2f}s "
        f"({summary.received / max(elapsed, 1e-9):,.0f} events/s) -> {args.out}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from entrypoints.report import report_grades
    from loyalty.program import Program

    program = _load_program(args.program)
    assert isinstance(program, Program)
    if args.kind == "liability":
        from entrypoints.liability import report_liability

        if not args.events.exists():
            print(f"{args.events}: no such file", file=sys.stderr)
            return 2
        text, report, _ = report_liability(program, args.events, args.out, args.as_of)
        print(text)
        return 0 if report["reconciliation"]["exact"] else 1
    if program.grading is None:
        print(f"{args.program}: the programme defines no grading", file=sys.stderr)
        return 2
    if not args.events.exists():
        print(f"{args.events}: no such file", file=sys.stderr)
        return 2
    print(report_grades(program, args.events, args.out))
    return 0


def _whatif(args: argparse.Namespace) -> int:
    import time

    from entrypoints.whatif import headline, whatif

    baseline, candidate = _load_program(args.baseline), _load_program(args.candidate)
    assert isinstance(baseline, Program) and isinstance(candidate, Program)
    if not args.events.exists():
        print(f"{args.events}: no such file", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = whatif(args.events, baseline, candidate, args.out, args.as_of)
    print(headline(report))
    print(
        f"in {time.perf_counter() - started:.1f}s -> {args.out / 'report.json'}, "
        f"{args.out / 'report.html'}"
    )
    return 0


def _infra(settings: Settings, action: str) -> int:
    import localinfra

    try:
        if action == "up":
            state = localinfra.up(settings)
        elif action == "down":
            stopped = localinfra.down(settings)
            print("stopped: " + (", ".join(stopped) or "nothing was running"))
            state = localinfra.status(settings)
        else:
            state = localinfra.status(settings)
    except localinfra.InfraError as exc:
        print(f"loyalty infra {action}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(state.lines()))
    if action == "up":
        return 0 if state.broker_up and state.redis_up else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
