"""What both benchmarks share: their command line and the generated workload, cached under
`.loyalty/bench/` by its parameters so repeated runs measure the same file."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge.program_file import load_program
from entrypoints.generate import generate
from loyalty.program import Program

ROOT = Path(__file__).resolve().parents[1]


def arguments(description: str | None, events: int, members: int, seed: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--members", type=int, default=members)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--program", type=Path, default=ROOT / "programs/airline.yaml")
    return parser.parse_args()


def cached_workload(args: argparse.Namespace) -> tuple[Program, Path]:
    """The programme and the events file for these arguments, generated on first use."""
    program = load_program(args.program)
    cache = ROOT / ".loyalty" / "bench"
    events = cache / f"events-{args.events}-{args.members}-{args.seed}-{args.program.stem}.jsonl"
    if not events.exists():
        print(f"generating {args.events:,} events for {args.members:,} members ...")
        generate(args.members, args.events, args.seed, events, program)
    return program, events
