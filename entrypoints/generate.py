"""`loyalty generate`: stream a workload to a file with a progress bar."""

from __future__ import annotations

from pathlib import Path

from entrypoints.progress import Progress
from loyalty.program import Program
from workload.generator import Workload


def generate(
    members: int,
    events: int,
    seed: int,
    out: Path,
    program: Program | None,
    progress: bool | None = None,
    mix: dict[str, float] | None = None,
) -> int:
    workload = Workload(members, events, seed, program, mix)
    bar = Progress(events, "generate", progress)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb", buffering=1 << 20) as sink:
        for line in workload.lines():
            sink.write(line)
            written += 1
            if written % 4096 == 0:
                bar.update(written)
    bar.close(written)
    return written
