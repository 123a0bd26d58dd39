"""`python -m bench.stages [EVENTS] [--program P] [--repeat N]`: a replay split into its stages.

Each stage runs over the whole file before the next, with the cyclic GC off: ordering and
decoding the lines, the rulebook (`Book.handle` over every input), writing the outputs. A
whole replay also pays GC and the generators between the stages. Run it with the compiled
rulebook first on the path (`bench.compiled.python_with(compiled_tree(), "bench.stages")`)
to see the deployed form; alternate two trees' runs to compare them.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from bench.compiled import is_compiled
from bench.workload import ROOT
from edge.program_file import load_program
from entrypoints.replay import ReplayWriter, Summary, _record, ordered_inputs
from loyalty.book import Book

DEFAULT = ROOT / ".loyalty" / "bench" / "events-100000-10000-42-airline.jsonl"


def split(events: Path, program: Path) -> dict[str, float]:
    prog = load_program(program)
    lines = events.read_bytes().splitlines()
    gc.collect()
    gc.disable()
    try:
        book = Book(prog)
        started = time.perf_counter()
        steps = list(ordered_inputs(lines, lambda c: book.clock_status(c) == "new"))
        decoded = time.perf_counter()
        handle = book.handle
        outcomes = [(n, line, handle(inp)) for n, line, inp, _ in steps if inp is not None]
        ruled = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            writer, summary = ReplayWriter(Path(out)), Summary()
            written = time.perf_counter()
            for number, line, outcome in outcomes:
                _record(writer, summary, number, line, outcome, True)
            writer.close()
            done = time.perf_counter()
    finally:
        gc.enable()
    return {
        "order and decode": decoded - started,
        "rulebook": ruled - decoded,
        "outputs": done - written,
        "postings": summary.postings,
        "status changes": summary.status_changes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("events", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--program", type=Path, default=ROOT / "programs" / "airline.yaml")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.events.exists():
        parser.error(f"{args.events} does not exist: pass a file, or run `make bench-core` first")
    form = "compiled" if is_compiled() else "interpreted"
    for _ in range(args.repeat):
        parts = split(args.events, args.program)
        print(
            f"{form}: "
            + ", ".join(
                f"{k} {v:.2f}s" if isinstance(v, float) else f"{k} {v}" for k, v in parts.items()
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
