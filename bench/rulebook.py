"""`python -m bench.rulebook [EVENTS] [--baseline REV] [--pairs N] [--repeat N]`: the compiled
rulebook alone (`Book.handle` over every input), per input type, this tree against REV.

A whole replay (`make bench-core BENCH_ARGS="--baseline REV"`) also times decoding, writing and
the generators between them, and one run per side is at the mercy of these machines' drift
(the same code took 3.65 to 5.26 s within one hour). Here each side's child orders and decodes
the inputs first (not timed), then handles them `--repeat` times, each time into a fresh book
with the cyclic GC off, and keeps its fastest run; the sides alternate `--pairs` times. A burst
of noise then costs a run, not the comparison: measured 2026-12-01, eight pairs against
176e02e were all faster (+6.5% to +22.3%) while whole replays in the same hour had two of
five pairs slower.

The child runs this file against the side's own `loyalty`, `edge` and `entrypoints` (first
on the path), so it needs only what every compiled revision has: `load_program`,
`ordered_inputs` and `Book`.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

# Spelt out, not imported from bench.stages: the child imports nothing of this tree's `bench`
# (an older revision on its path may not have that module).
DEFAULT = (
    Path(__file__).resolve().parents[1]
    / ".loyalty"
    / "bench"
    / ("events-100000-10000-42-airline.jsonl")
)
PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "airline.yaml"


def measure(events: Path, program: Path, repeat: int) -> dict[str, Any]:
    """The fastest of `repeat` runs of `Book.handle` over the file's inputs: total seconds,
    and per input type (count, seconds). Imports whatever rulebook is first on the path."""
    import loyalty.book
    from edge.program_file import load_program
    from entrypoints.replay import ordered_inputs

    prog = load_program(program)
    lines = events.read_bytes().splitlines()
    orderer = loyalty.book.Book(prog)  # asked which clocks are new, as replay does
    inputs = [
        step[2]
        for step in ordered_inputs(lines, lambda c: orderer.clock_status(c) == "new")
        if step[2] is not None
    ]
    clock = time.perf_counter
    best: dict[str, Any] | None = None
    for _ in range(repeat):
        book = loyalty.book.Book(prog)
        handle = book.handle
        by_type: dict[str, list[float]] = {}
        gc.collect()
        gc.disable()
        try:
            started = clock()
            for inp in inputs:
                before = clock()
                handle(inp)
                spent = clock() - before
                entry = by_type.setdefault(type(inp).__name__, [0, 0.0])
                entry[0] += 1
                entry[1] += spent
            total = clock() - started
        finally:
            gc.enable()
        if best is None or total < best["total"]:
            best = {"total": total, "by_type": by_type}
    assert best is not None, "repeat must be at least 1"
    best["inputs"] = len(inputs)
    best["compiled"] = not loyalty.book.__file__.endswith(".py")
    return best


def child(tree: Path, project: Path, events: Path, program: Path, repeat: int) -> dict[str, Any]:
    """`measure` in a child process that imports `project` and its compiled `tree` only."""
    from bench.baseline import BaselineError
    from bench.compiled import python_code

    args = ["--child", str(events), "--program", str(program), "--repeat", str(repeat)]
    code = (
        f"sys.path.insert(1, {str(project)!r}); import runpy; sys.argv[1:] = {args!r}; "
        f"runpy.run_path({__file__!r}, run_name='__main__')"
    )
    done = subprocess.run(python_code(tree, code), cwd=project, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaselineError(f"the rulebook's run in {project} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["compiled"]:
        raise BaselineError(f"the child in {project} did not import its compiled rulebook")
    return result


def summary(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """(median of the pairs' speed-ups, fastest against fastest): baseline seconds first."""
    median = statistics.median(old / new for old, new in pairs)
    return median, min(old for old, _ in pairs) / min(new for _, new in pairs)


def table(result: dict[str, Any]) -> str:
    rows = sorted(result["by_type"].items(), key=lambda kv: -kv[1][1])
    total = sum(seconds for _, seconds in result["by_type"].values())
    return "\n".join(
        f"    {name:<22} {count:>8,} {seconds / count * 1e6:>9.1f} us {seconds / total:>6.1%}"
        for name, (count, seconds) in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("events", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--program", type=Path, default=PROGRAM)
    parser.add_argument("--repeat", type=int, default=3, help="runs per child, fastest kept")
    parser.add_argument("--baseline", metavar="REV")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.events, args.program, args.repeat)))
        return
    if not args.events.exists():
        parser.error(f"{args.events} does not exist: pass a file, or run `make bench-core` first")
    from bench.baseline import program_in, sides
    from bench.compiled import compiled_tree
    from bench.workload import ROOT

    if args.baseline is None:
        result = child(compiled_tree(quiet=False), ROOT, args.events, args.program, args.repeat)
        print(f"  compiled rulebook: {result['total']:.2f} s for {result['inputs']:,} inputs")
        print(table(result))
        return
    old, new = sides(args.baseline)
    old_program = program_in(old.project, args.program)
    pairs: list[tuple[float, float]] = []
    for n in range(1, args.pairs + 1):
        before = child(old.tree, old.project, args.events, old_program, args.repeat)
        after = child(new.tree, new.project, args.events, args.program, args.repeat)
        pairs.append((before["total"], after["total"]))
        print(
            f"    pair {n}: {args.baseline} {before['total']:.2f} s  this tree "
            f"{after['total']:.2f} s  ({before['total'] / after['total'] - 1:+.1%} faster)",
            flush=True,
        )
    median, fastest = summary(pairs)
    print(f"  {args.baseline}, the last pair's fastest run, per input type:\n{table(before)}")
    print(f"  this tree, the last pair's fastest run, per input type:\n{table(after)}")
    print(
        f"  this tree against {args.baseline}, rulebook alone: median of {args.pairs} pairs "
        f"{median - 1:+.1%} faster; fastest against fastest {fastest - 1:+.1%}"
    )


if __name__ == "__main__":
    main()
