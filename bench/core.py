"""`make bench-core`: replay a generated workload through the core and print events/s, with
baselines measured in the same process (reading lines, JSON parsing, wire decoding) so the
figures can be compared across noisy machines as ratios. Medians of `--repeat` runs."""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.workload import arguments, cached_workload
from entrypoints.replay import replay
from schemas.translate import Undecodable, decode_external


def timed(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds over `repeat` runs, and the count the run reports."""
    seconds, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), count


def main() -> int:
    args = arguments(__doc__, events=1_000_000, members=100_000, seed=42)
    program, events = cached_workload(args)
    lines = events.read_bytes().splitlines()

    def read_only() -> int:
        with events.open("rb") as source:
            return sum(1 for _ in source)

    def parse_json() -> int:
        for line in lines:
            with contextlib.suppress(orjson.JSONDecodeError):
                orjson.loads(line)
        return len(lines)

    def decode_wire() -> int:
        for line in lines:
            with contextlib.suppress(Undecodable):
                decode_external(line)
        return len(lines)

    def full_replay() -> int:
        with tempfile.TemporaryDirectory() as out:
            return replay(events, program, Path(out), progress=False).received

    print(f"workload: {events.name} ({len(lines):,} lines), {args.repeat} runs each, medians")
    results = {}
    for name, run in (
        ("read lines", read_only),
        ("orjson.loads", parse_json),
        ("decode to core inputs", decode_wire),
        ("replay (core + outputs)", full_replay),
    ):
        seconds, count = timed(run, args.repeat)
        results[name] = count / seconds
        print(f"  {name:<26} {count / seconds:>12,.0f} events/s  ({seconds:.2f}s)")
    replay_rate = results["replay (core + outputs)"]
    print(
        f"replay / decode-only: {replay_rate / results['decode to core inputs']:.2f}  "
        f"replay / json-only: {replay_rate / results['orjson.loads']:.3f}"
    )
    target = 100_000
    print(
        f"core replay: {replay_rate:,.0f} events/s on one core "
        f"({replay_rate / target:.0%} of the {target:,}/s goal)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
