"""An earlier revision's compiled rulebook as a baseline in the same run (`make bench-core
BENCH_ARGS="--baseline REV"`).

These machines' speed drifts by up to a fifth within an hour and by 1.5x between sessions, so a
figure from another run says little about a change. Here the revision's files are taken out of
git (`git archive`) under `.loyalty/baseline/<commit>/`, its rulebook is compiled with its own
`bench/compiled.py`, and the two replay the same workload file in alternating runs: the ratio
of each pair, and their median, is the measure of what changed.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.compiled import compiled_tree, python_code
from bench.workload import ROOT

CHECKOUTS = ROOT / ".loyalty" / "baseline"


class BaselineError(RuntimeError):
    pass


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaselineError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def checkout(rev: str, into: Path = CHECKOUTS) -> Path:
    """The revision's files (`git archive`, no worktree to clean up), extracted once."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    folder = into / commit
    if (folder / ".extracted").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    if not (folder / "bench" / "compiled.py").exists():
        raise BaselineError(f"{rev} predates the compiled rulebook (no bench/compiled.py)")
    (folder / ".extracted").touch()
    return folder


def built(folder: Path) -> Path:
    """The revision's compiled rulebook, built by its own `bench/compiled.py` (~30 s once)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.compiled"], cwd=folder, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BaselineError(f"building the baseline's rulebook failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Side:
    """One rulebook to replay: its project folder and its compiled tree."""

    name: str
    project: Path
    tree: Path

    def rate(self, events: Path, program: Path, repeat: int) -> float:
        """events/s of a replay in a child that imports this side's project and compiled
        rulebook only (checked: a mixed import would measure neither)."""
        tree, project = str(self.tree), str(self.project)
        args = ["--replay-only", str(events), "--repeat", str(repeat), "--program", str(program)]
        code = (
            f"sys.path.insert(1, {project!r}); import loyalty.book, entrypoints.replay; "
            f"assert loyalty.book.__file__.startswith({tree!r}), loyalty.book.__file__; "
            # The replay module is compiled in trees that compile it (setup.py), else the
            # project's: either way this side's own.
            f"assert entrypoints.replay.__file__.startswith(({tree!r}, {project!r})), "
            "entrypoints.replay.__file__; "
            f"import runpy; sys.argv[1:] = {args!r}; "
            "runpy.run_module('bench.core', run_name='__main__', alter_sys=True)"
        )
        child = subprocess.run(
            python_code(self.tree, code), cwd=self.project, capture_output=True, text=True
        )
        if child.returncode != 0:
            raise BaselineError(f"{self.name}'s replay failed:\n{child.stderr[-3000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        if not result["compiled"]:
            raise BaselineError(f"{self.name}'s child did not import its compiled rulebook")
        return float(result["rate"])


def sides(rev: str) -> tuple[Side, Side]:
    folder = checkout(rev)
    return Side(rev, folder, built(folder)), Side("this tree", ROOT, compiled_tree(quiet=False))


def program_in(project: Path, program: Path) -> Path:
    """The revision's own copy of a programme file of this tree (its schema may differ)."""
    try:
        return project / program.resolve().relative_to(ROOT)
    except ValueError:
        return program  # a file outside the project: the same for both


def alternate(rate: Callable[[int], float], pairs: int) -> tuple[list[tuple[float, float]], float]:
    """`pairs` alternating runs, baseline first (`rate(0)`), then this tree (`rate(1)`); the
    pairs and the median of this tree's rate over the baseline's."""
    runs = [(rate(0), rate(1)) for _ in range(pairs)]
    return runs, statistics.median(new / old for old, new in runs)


def compare(rev: str, events: Path, program: Path, repeat: int, pairs: int) -> float:
    """Print the alternating pairs and return the median ratio (this tree / baseline)."""
    old, new = sides(rev)
    programs = (program_in(old.project, program), program)
    both = (old, new)
    runs, ratio = alternate(lambda i: both[i].rate(events, programs[i], repeat), pairs)
    for n, (before, after) in enumerate(runs, 1):
        print(
            f"    pair {n}: {rev} {before:>9,.0f}  this tree {after:>9,.0f}  "
            f"({after / before - 1:+.1%})",
            flush=True,
        )
    print(f"  this tree against {rev}, compiled, median of {pairs} pairs: {ratio - 1:+.1%}")
    return ratio
