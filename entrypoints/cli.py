"""The `loyalty` command."""

from __future__ import annotations

import argparse
import asyncio
import sys

from config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loyalty", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    infra = commands.add_parser("infra", help="local Kafka and Redis: up | down | status")
    infra.add_argument("action", choices=["up", "down", "status"])

    commands.add_parser("topics", help="create the engine's topics (idempotent)")

    worker = commands.add_parser("worker", help="run a stream worker until stopped")
    worker.add_argument("--loglevel", default="warn", choices=["crit", "error", "warn", "info"])

    demo = commands.add_parser("demo", help="run the engine on sample data and show the result")
    demo.add_argument("--keep-infra", action="store_true", help="leave Kafka and Redis running")

    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "infra":
        return _infra(settings, args.action)
    if args.command == "topics":
        from streams.topics import ensure_topics

        created = asyncio.run(ensure_topics(settings))
        print("created: " + (", ".join(created) or "nothing (all exist)"))
        return 0
    if args.command == "worker":
        from entrypoints.worker import run_worker

        run_worker(settings, args.loglevel)
        return 0
    if args.command == "demo":
        from entrypoints.demo import run_demo

        return run_demo(settings, keep_infra=args.keep_infra)
    parser.error(f"unknown command {args.command}")
    return 2


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
