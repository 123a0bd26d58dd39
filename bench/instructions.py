"""`python -m bench.instructions [EVENTS] [--lines N] [--baseline REV] [--whole]`: instructions
the compiled rulebook executes per input, counted by valgrind (callgrind), this tree against REV.
With `--whole`, those of a whole replay per line instead: decoding, the rulebook, the outputs
written and the collections the replay runs (the count of a child that only starts and loads the
programme taken off that of one that also replays). Every child runs with one hash seed: with
salted string hashes a whole replay's count moved by ~0.2% between runs of the same code
(17,970,691,000 and 18,011,249,623 for one revision), and start-up's by more than a small
file's replay; with the seed, two counts of 40 lines agree to ~0.03%.

Timings on these machines drift by a fifth within an hour, so a change of a few percent needs
many alternating runs to show. An instruction count does not drift: the same inputs through
the same code give the same count to a few parts in a million. Only `Book.handle` is counted
(`--toggle-collect`), with the cyclic GC off, so decoding, start-up and collections are left
out. The inputs are the first `--lines` lines of the workload (default 20,000 of the 100k bench
file; ~1 minute per side under valgrind). The first fifth understates what members' histories
cost: measured 2026-12-01, an input took 62,605 instructions over the first 20,000 and 92,870
over all 99,891 (lots, activity days and remembered ids grow). For a change to anything that
walks a member's history, count the whole file (`--lines 100000`, ~4 minutes per side).

Read it with care: instructions are not time. Measured here, a hand-written digest text saved
3% of the instructions and no time, while the memory and instruction-cache misses it does not
count are a large part of a replay's time. Use it to see that a change removed work, and
confirm with timed pairs (`make bench-core BENCH_ARGS="--baseline REV"`).
Needs `valgrind` (Debian: `apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from itertools import islice
from pathlib import Path

from bench.baseline import BaselineError, Side, program_in, sides
from bench.compiled import compiled_tree, python_code
from bench.stages import DEFAULT
from bench.workload import ROOT

# The Python-callable entry of the compiled `Book.handle`: everything it calls is counted.
ENTRY = "CPyPy_book___Book___handle"

# The child: the inputs decoded and ordered first (not counted), then every input handled.
CHILD = """
import sys
from pathlib import Path
sys.path.insert(1, {project!r})
import loyalty.book
assert not loyalty.book.__file__.endswith(".py"), loyalty.book.__file__
from edge.program_file import load_program
from entrypoints.replay import ordered_inputs
program = load_program(Path({program!r}))
book = loyalty.book.Book(program)
lines = Path({events!r}).read_bytes().splitlines()
steps = [s[2] for s in ordered_inputs(lines, lambda c: book.clock_status(c) == "new")]
inputs = [i for i in steps if i is not None]
import gc
gc.collect()
gc.disable()  # a collection's instructions depend on what else is alive: left out
for inp in inputs:
    book.handle(inp)
print(len(inputs))
"""


# `--whole`: a replay as `loyalty replay` runs it, or (`run` false) only what precedes it.
WHOLE = """
import sys, tempfile
from pathlib import Path
sys.path.insert(1, {project!r})
import loyalty.book
assert not loyalty.book.__file__.endswith(".py"), loyalty.book.__file__
from edge.program_file import load_program
from entrypoints.replay import replay
program = load_program(Path({program!r}))
if {run!r}:
    with tempfile.TemporaryDirectory() as out:
        print(replay(Path({events!r}), program, Path(out), progress=False).received)
else:
    print(0)
"""


def command(side: Side, events: Path, program: Path, out: Path) -> list[str]:
    code = CHILD.format(project=str(side.project), program=str(program), events=str(events))
    return [
        "valgrind",
        "--tool=callgrind",
        f"--toggle-collect={ENTRY}",
        f"--callgrind-out-file={out}",
        *python_code(side.tree, code),
    ]


def whole_command(side: Side, events: Path, program: Path, out: Path, run: bool) -> list[str]:
    values = {"project": str(side.project), "program": str(program), "events": str(events)}
    code = WHOLE.format(**values, run=run)
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    return [*callgrind, *python_code(side.tree, code)]


def collected(stderr: str) -> int:
    """The instruction count callgrind reports for the toggled function."""
    found = re.search(r"Collected\s*:\s*([\d,]+)", stderr)
    if found is None:
        raise BaselineError(f"no instruction count in valgrind's output:\n{stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def _counted(side: Side, cmd: list[str]) -> tuple[int, int]:
    # One hash seed for every child: with salted string hashes, sets and dicts built at
    # import iterate in another order in each process, and start-up's count moved by more
    # than a small workload's replay (a whole count is a replay's minus start-up's).
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, cwd=side.project, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BaselineError(f"{side.name} under valgrind failed:\n{done.stderr[-3000:]}")
    return collected(done.stderr), int(done.stdout.strip().splitlines()[-1])


def count(side: Side, events: Path, program: Path, whole: bool = False) -> tuple[int, int]:
    """(instructions, inputs handled) for one side: in `Book.handle`, or with `whole` in a
    whole replay (then per line read)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        if not whole:
            return _counted(side, command(side, events, program, out))
        replayed, lines = _counted(side, whole_command(side, events, program, out, True))
        started, _ = _counted(side, whole_command(side, events, program, out, False))
    return replayed - started, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("events", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--baseline", metavar="REV")
    parser.add_argument("--program", type=Path, default=ROOT / "programs" / "airline.yaml")
    parser.add_argument("--whole", action="store_true", help="count a whole replay per line")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    if not args.events.exists():
        parser.error(f"{args.events} does not exist: pass a file, or run `make bench-core` first")
    with tempfile.TemporaryDirectory() as folder:
        head = Path(folder) / "events.jsonl"
        with args.events.open("rb") as source:
            head.write_bytes(b"".join(islice(source, args.lines)))
        if args.baseline:
            old, new = sides(args.baseline)
            compared: list[tuple[Side, Path]] = [
                (old, program_in(old.project, args.program)),
                (new, args.program),
            ]
        else:
            compared = [(Side("this tree", ROOT, compiled_tree(quiet=False)), args.program)]
        counts = []
        where, unit = ("a whole replay", "line") if args.whole else ("Book.handle", "input")
        for side, program in compared:
            instructions, inputs = count(side, head, program, args.whole)
            counts.append(instructions)
            print(
                f"  {side.name:>12}: {instructions:>15,} instructions in {where}, "
                f"{instructions / inputs:>9,.0f} per {unit} ({inputs:,} {unit}s)",
                flush=True,
            )
        if len(counts) == 2:
            print(f"  this tree against {args.baseline}: {counts[1] / counts[0] - 1:+.2%}")


if __name__ == "__main__":
    main()
