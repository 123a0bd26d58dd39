"""The rulebook compiled with mypyc (what the image runs) gives the same outputs as the
interpreted source, byte for byte, on every workload shape: many members, a few very busy
members, the retail programme, and a file delivered twice."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from bench.compiled import compiled_tree, python_code, python_with
from entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[2]
# (programme, members, events, seed): 300 members; 12 members with ~1,500 events each; retail
WORKLOADS = [("airline", 300, 20_000, 5), ("airline", 12, 18_000, 9), ("retail", 400, 15_000, 3)]


@pytest.fixture(scope="module")
def tree() -> Path:
    return compiled_tree()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_child_process_runs_the_compiled_rulebook(tree: Path) -> None:
    code = (
        "import loyalty.book, loyalty.apply; print(loyalty.book.__file__, loyalty.apply.__file__)"
    )
    done = subprocess.run(python_code(tree, code), capture_output=True, text=True, check=True)
    files = done.stdout.split()
    assert len(files) == 2
    assert all(f.startswith(str(tree)) and f.endswith(".so") for f in files), files
    # Every rulebook module is compiled but the programme's (pydantic fills those).
    sources = {p.stem for p in (ROOT / "loyalty").glob("*.py")}
    built = {p.name.split(".")[0] for p in (tree / "loyalty").glob("*.so")}
    assert built == {s for s in sources if not s.startswith("program")}
    # So are the edge modules every line passes through, and a replay imports them compiled.
    edge = {str(p.relative_to(tree)).split(".")[0] for p in tree.glob("[!l]*/*.so")}
    # (Beside them, the huge-page arena allocator: C, built for every install.)
    assert edge == {name.removesuffix(".py") for name in _edge_modules()} | {"entrypoints/_arena"}
    code = "import entrypoints.replay as r, edge.translate as t; print(r.__file__, t.__file__)"
    done = subprocess.run(python_code(tree, code), capture_output=True, text=True, check=True)
    assert all(f.startswith(str(tree)) and f.endswith(".so") for f in done.stdout.split())


def _edge_modules() -> tuple[str, ...]:
    """setup.py's EDGE_MODULES (importing setup.py would run setuptools)."""
    for node in ast.parse((ROOT / "setup.py").read_text()).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "EDGE_MODULES":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("setup.py names no EDGE_MODULES")


@pytest.mark.parametrize(("program", "members", "events", "seed"), WORKLOADS)
def test_compiled_replay_is_byte_identical(
    tree: Path, tmp_path: Path, program: str, members: int, events: int, seed: int
) -> None:
    programme = str(ROOT / f"programs/{program}.yaml")
    once = tmp_path / "events.jsonl"
    args = ["--members", str(members), "--events", str(events), "--seed", str(seed)]
    assert main(["generate", *args, "--out", str(once), "--program", programme]) == 0
    twice = tmp_path / "twice.jsonl"
    twice.write_bytes(once.read_bytes() * 2)  # every line redelivered, far apart
    for source in (once, twice):
        interpreted, compiled = tmp_path / f"i-{source.stem}", tmp_path / f"c-{source.stem}"
        assert main(["replay", str(source), "--program", programme, "--out", str(interpreted)]) == 0
        command = ["replay", str(source), "--program", programme, "--out", str(compiled)]
        subprocess.run(python_with(tree, "entrypoints.cli", *command), check=True)
        assert _files(compiled) == _files(interpreted)
    # The copies change nothing (the second half is rejected as duplicates or too late).
    for name in ("members.jsonl", "ledger.jsonl", "status_changes.jsonl"):
        assert (tmp_path / "c-events" / name).read_bytes() == (
            tmp_path / "c-twice" / name
        ).read_bytes()


def test_the_rulebook_and_stream_protocol_tests_pass_compiled(tree: Path) -> None:
    """The rulebook's unit tests, the state codec (orjson writes the compiled dataclasses), the
    partition runners against replay and the decoder's fast path against pydantic, run in a
    child that imported the compiled modules before pytest puts the source tree on the path."""
    suites = ["tests/unit/core", "tests/unit/test_state_codec.py"]
    suites += ["tests/unit/test_partition_runners.py", "tests/unit/edge"]
    code = (
        "import loyalty.book, edge.wire_fast, pytest; "
        "assert not loyalty.book.__file__.endswith('.py'), loyalty.book.__file__; "
        "assert not edge.wire_fast.__file__.endswith('.py'), edge.wire_fast.__file__; "
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', *{suites!r}]))"
    )
    subprocess.run(python_code(tree, code), cwd=ROOT, check=True)
