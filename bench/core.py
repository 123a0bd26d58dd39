"""`make bench-core`: the rulebook's speed on one core, and what it costs next to the wire.

For each workload size (100k events; 1M events; 100k events with 10x the members) it replays
a generated workload through the core and prints events/s beside baselines measured in the
same process on the same file: reading lines, `orjson.loads` only, validating with the wire
models only (pydantic), and decoding to core inputs. The ratios show the rulebook's share and
survive a noisy machine; the three sizes show whether cost grows with history or membership.
Medians of `--repeat` runs. `--sizes` picks the workloads (default all three).

The replay is measured twice: interpreted (a development install) and with the rulebook
compiled by mypyc (what the image and a `LOYALTY_COMPILE=1` install run; bench/compiled.py),
the compiled one in a child process with the same workload. `--build` picks one of them.

`--baseline REV` also replays the compiled rulebook of git revision REV on the same file, in
`--pairs` alternating runs with this tree's, and prints the ratio (bench/baseline.py): on these
machines only a comparison within one run measures a change.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from pydantic import ValidationError

from bench.baseline import Side, compare
from bench.compiled import compiled_tree, is_compiled
from bench.workload import ROOT, cached_workload
from edge.program_file import load_program
from edge.translate import Undecodable, decode_external
from entrypoints.replay import replay
from schemas import events as wire

SIZES = {  # name -> (events, members)
    "100k": (100_000, 10_000),
    "1M": (1_000_000, 100_000),
    "100k-10x-members": (100_000, 100_000),
}
TARGET = 50_000
GOAL = 100_000


def timed(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds over `repeat` runs, and the count the run reports."""
    seconds, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), count


def measure(args: argparse.Namespace, events_n: int, members: int) -> dict[str, float]:
    sized = argparse.Namespace(**{**vars(args), "events": events_n, "members": members})
    program, events = cached_workload(sized)
    lines = events.read_bytes().splitlines()

    def read_only() -> int:
        with events.open("rb") as source:
            return sum(1 for _ in source)

    def parse_json() -> int:
        for line in lines:
            with contextlib.suppress(orjson.JSONDecodeError):
                orjson.loads(line)
        return len(lines)

    def validate_wire() -> int:
        validate = wire.EXTERNAL.validate_json
        for line in lines:
            with contextlib.suppress(ValidationError):
                validate(line)
        return len(lines)

    def decode_wire() -> int:
        for line in lines:
            with contextlib.suppress(Undecodable):
                decode_external(line)
        return len(lines)

    def full_replay() -> int:
        with tempfile.TemporaryDirectory() as out:
            return replay(events, program, Path(out), progress=False).received

    print(f"workload {events.name}: {len(lines):,} lines, {members:,} members")
    rates: dict[str, float] = {}
    for name, run in (
        ("read lines", read_only),
        ("orjson.loads only", parse_json),
        ("validate (wire models)", validate_wire),
        ("decode to core inputs", decode_wire),
        ("replay (core + outputs)", full_replay),
    ):
        seconds, count = timed(run, args.repeat)
        rates[name] = count / seconds
        print(f"  {name:<26} {count / seconds:>12,.0f} events/s  ({seconds:.2f}s)")
    replay_rate = rates["replay (core + outputs)"]
    # Time shares per event: how much of replay is decoding, and how much the rulebook.
    decode_share = (1 / rates["decode to core inputs"]) / (1 / replay_rate)
    print(
        f"  replay / orjson-only {replay_rate / rates['orjson.loads only']:.3f}, "
        f"/ validate-only {replay_rate / rates['validate (wire models)']:.3f}; "
        f"decoding is {decode_share:.0%} of replay time, rulebook + outputs the rest"
    )
    if args.build == "both":
        compiled = compiled_replay(args, events_n, members)
        rates["replay, rulebook compiled"] = compiled
        print(
            f"  {'replay, rulebook compiled':<26} {compiled:>12,.0f} events/s  "
            f"({compiled / replay_rate:.2f}x interpreted)"
        )
    if args.baseline:
        ratio = compare(args.baseline, events, args.program, args.repeat, args.pairs)
        rates[f"compiled, this tree / {args.baseline}"] = ratio
    return rates


def compiled_replay(args: argparse.Namespace, events_n: int, members: int) -> float:
    sized = argparse.Namespace(**{**vars(args), "events": events_n, "members": members})
    _, events = cached_workload(sized)
    return compiled_replay_rate(events, args.program, args.repeat)


def compiled_replay_rate(events: Path, program: Path, repeat: int) -> float:
    """The replay's events/s with the rulebook compiled, measured in a child process (a
    process imports one form of a module) on the same file; median of `repeat`."""
    return Side("this tree", ROOT, compiled_tree(quiet=False)).rate(events, program, repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--program", type=Path, default=ROOT / "programs/airline.yaml")
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"of {', '.join(SIZES)}")
    parser.add_argument(
        "--build",
        choices=("both", "interpreted"),
        default="both",
        help="replay with the interpreted rulebook only, or also compiled (default)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also replay git revision REV's compiled rulebook in alternating runs (e.g. HEAD~1)",
    )
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs with --baseline")
    parser.add_argument("--replay-only", type=Path, help=argparse.SUPPRESS)  # a child's file
    args = parser.parse_args()
    if args.replay_only:
        program = load_program(args.program)

        def full_replay() -> int:
            with tempfile.TemporaryDirectory() as out:
                return replay(args.replay_only, program, Path(out), progress=False).received

        seconds, count = timed(full_replay, args.repeat)
        print(json.dumps({"rate": count / seconds, "compiled": is_compiled()}))
        return 0
    summary = {size: measure(args, *SIZES[size]) for size in args.sizes.split(",")}
    print(f"core replay, events/s (medians of {args.repeat}):")
    for size, rates in summary.items():
        for build, key in (
            ("interpreted", "replay (core + outputs)"),
            ("compiled", "replay, rulebook compiled"),
        ):
            if key in rates:
                rate = rates[key]
                print(
                    f"  {size:<18} {build:<12} {rate:>10,.0f}  ({rate / TARGET:.0%} of the "
                    f"{TARGET:,} target, {rate / GOAL:.0%} of the {GOAL:,} goal)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
