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
With `--cache`, valgrind also simulates this machine's caches and a branch predictor
(`--cache-sim=yes --branch-sim=yes`; 32 KiB L1 instruction and data caches, and its 1 MiB L2
as the last level) and prints, per input or line, the L1 instruction misses, L1 and L2 data
misses and mispredicted branches beside the instructions. Those are what the count alone
leaves out: measured 2026-12-02 over the first 30,000 lines, the rulebook ran 56,300
instructions a line with 2,170 instruction-cache misses, 125 L2 data misses (its members'
state) and 1,720 mispredicted branches, against 21,800 / 805 / 16 / 457 for decoding, and it
retires instructions at half decoding's rate. Like the count, the simulation is the same for
the same inputs and code, so it shows a change to the memory layout that timings drift over
(~3x slower than counting alone).
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


# `--cache`: this machine's caches (AMD EPYC: 32 KiB 8-way L1s, 1 MiB 16-way L2 per core, the
# L2 simulated as the last level: the member state's misses show there) and branch prediction.
CACHE = (
    "--cache-sim=yes",
    "--branch-sim=yes",
    "--I1=32768,8,64",
    "--D1=32768,8,64",
    "--LL=1048576,16,64",
)
# What `--cache` prints, from callgrind's events: (label, the events summed).
SIMULATED = (
    ("instructions", ("Ir",)),
    ("L1 instruction misses", ("I1mr",)),
    ("L1 data misses", ("D1mr", "D1mw")),
    ("L2 data misses", ("DLmr", "DLmw")),
    ("mispredicted branches", ("Bcm", "Bim")),
)


def command(side: Side, events: Path, program: Path, out: Path, cache: bool = False) -> list[str]:
    code = CHILD.format(project=str(side.project), program=str(program), events=str(events))
    return [
        "valgrind",
        "--tool=callgrind",
        f"--toggle-collect={ENTRY}",
        f"--callgrind-out-file={out}",
        *(CACHE if cache else ()),
        *python_code(side.tree, code),
    ]


def whole_command(
    side: Side, events: Path, program: Path, out: Path, run: bool, cache: bool = False
) -> list[str]:
    values = {"project": str(side.project), "program": str(program), "events": str(events)}
    code = WHOLE.format(**values, run=run)
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    return [*callgrind, *(CACHE if cache else ()), *python_code(side.tree, code)]


def collected(stderr: str) -> int:
    """The instruction count callgrind reports for the toggled function."""
    return collected_events(stderr)["Ir"]


def collected_events(stderr: str) -> dict[str, int]:
    """Every event callgrind reports as collected, by name (`Ir` alone, or with `--cache` the
    simulated misses and branches too)."""
    names = re.search(r"Events\s*:\s*([^\n]+)", stderr)
    values = re.search(r"Collected\s*:\s*([\d, ]+)", stderr)
    if names is None or values is None:
        raise BaselineError(f"no instruction count in valgrind's output:\n{stderr[-2000:]}")
    counts = [int(v.replace(",", "")) for v in values.group(1).split()]
    found = dict(zip(names.group(1).split(), counts, strict=True))
    if "Ir" not in found:
        raise BaselineError(f"no instruction count in valgrind's output:\n{stderr[-2000:]}")
    return found


def _counted(side: Side, cmd: list[str]) -> tuple[dict[str, int], int]:
    # One hash seed for every child: with salted string hashes, sets and dicts built at
    # import iterate in another order in each process, and start-up's count moved by more
    # than a small workload's replay (a whole count is a replay's minus start-up's).
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, cwd=side.project, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BaselineError(f"{side.name} under valgrind failed:\n{done.stderr[-3000:]}")
    return collected_events(done.stderr), int(done.stdout.strip().splitlines()[-1])


def count(side: Side, events: Path, program: Path, whole: bool = False) -> tuple[int, int]:
    """(instructions, inputs handled) for one side: in `Book.handle`, or with `whole` in a
    whole replay (then per line read)."""
    found, inputs = simulate(side, events, program, whole, cache=False)
    return found["Ir"], inputs


def simulate(
    side: Side, events: Path, program: Path, whole: bool = False, cache: bool = True
) -> tuple[dict[str, int], int]:
    """`count`, with every event callgrind collected (with `cache`, the simulated misses and
    branches too): start-up's taken off each for `whole`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        if not whole:
            return _counted(side, command(side, events, program, out, cache))
        replay_cmd = whole_command(side, events, program, out, True, cache)
        replayed, lines = _counted(side, replay_cmd)
        started, _ = _counted(side, whole_command(side, events, program, out, False, cache))
    return {name: n - started.get(name, 0) for name, n in replayed.items()}, lines


def simulated(found: dict[str, int]) -> dict[str, int]:
    """`SIMULATED`'s figures from callgrind's events."""
    return {label: sum(found[name] for name in names) for label, names in SIMULATED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("events", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--baseline", metavar="REV")
    parser.add_argument("--program", type=Path, default=ROOT / "programs" / "airline.yaml")
    parser.add_argument("--whole", action="store_true", help="count a whole replay per line")
    parser.add_argument(
        "--cache", action="store_true", help="simulate caches and branches too (~3x slower)"
    )
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
        figures = []
        where, unit = ("a whole replay", "line") if args.whole else ("Book.handle", "input")
        for side, program in compared:
            found, inputs = simulate(side, head, program, args.whole, args.cache)
            instructions = found["Ir"]
            counts.append(instructions)
            print(
                f"  {side.name:>12}: {instructions:>15,} instructions in {where}, "
                f"{instructions / inputs:>9,.0f} per {unit} ({inputs:,} {unit}s)",
                flush=True,
            )
            if args.cache:
                figures.append(simulated(found))
                for label, n in figures[-1].items():
                    print(f"  {'':>12}  {label:<24} {n / inputs:>12,.1f} per {unit}", flush=True)
        if len(counts) == 2:
            print(f"  this tree against {args.baseline}: {counts[1] / counts[0] - 1:+.2%}")
            for label in figures[1] if figures else ():
                before, after = figures[0][label], figures[1][label]
                print(f"  {'':>12}  {label:<24} {after / before - 1 if before else 0.0:+.2%}")


if __name__ == "__main__":
    main()
