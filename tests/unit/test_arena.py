"""pymalloc's arenas on huge pages (entrypoints/_arena.c, `entrypoints.heap.use_huge_pages`).

The allocator replaces CPython's for the rest of the process, so each test runs in a fresh
interpreter. What must hold: objects keep their values through any churn of allocation and
freeing (arenas handed out again from the free list, arenas made before it was installed
unmapped as before), freed arenas are reused before address space grows, the memory is on
huge pages where the kernel offers them, and `LOYALTY_HUGE_PAGES=0` leaves CPython's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _child(code: str, **env: str) -> Any:
    """Runs `code` in a fresh interpreter; its last line printed is JSON, returned."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_extension_is_built_and_installs_once() -> None:
    # `make install` builds it; where it is missing the engine still runs, slower, and this
    # test says why.
    result = _child(
        """
        import json
        from entrypoints.heap import use_huge_pages
        from entrypoints import _arena
        installed = [use_huge_pages(), _arena.install(), use_huge_pages()]
        made = [[i] for i in range(100_000)]  # arenas made after install are its own
        print(json.dumps([*installed, _arena.stats()]))
        """
    )
    first, again, still, stats = result
    assert first is True and again is False and still is True
    assert stats["installed"] is True and stats["arena_bytes"] > 0 and stats["arenas_live"] > 0


def test_values_survive_churn_and_freed_arenas_are_reused() -> None:
    result = _child(
        """
        import json, random
        from entrypoints import _arena
        rng = random.Random(7)
        # Made before the allocator: their arenas are CPython's, unmapped when emptied.
        before = [[i, str(i)] for i in range(300_000)]
        assert _arena.install()
        n = 50_000
        rounds, live = [], {}
        for r in range(8):
            # Objects of many of pymalloc's size classes, kept a while in random order.
            batch = [
                (k, [k] * rng.randrange(1, 60), "x" * rng.randrange(0, 400), {k: str(k)})
                for k in range(r * n, (r + 1) * n)
            ]
            rng.shuffle(batch)
            live[r] = batch
            if r >= 2:
                del live[r - 2]  # a round freed, its space taken by the next ones
            if r == 1:
                del before  # CPython's own arenas come back here, to be unmapped
            rounds.append(_arena.stats())
        ok = all(
            item[1] == [item[0]] * len(item[1])
            and item[2] == "x" * len(item[2])
            and item[3] == {item[0]: str(item[0])}
            for batch in live.values()
            for item in batch
        )
        # All of it freed at once: whole arenas empty, onto the free list, then taken again.
        del batch
        live.clear()
        emptied = _arena.stats()
        again = [[k, str(k)] for k in range(400_000)]
        refilled = _arena.stats()
        ok = ok and all(item == [k, str(k)] for k, item in enumerate(again))
        print(json.dumps({"ok": ok, "rounds": rounds, "emptied": emptied, "refilled": refilled}))
        """
    )
    assert result["ok"] is True
    rounds, emptied, refilled = result["rounds"], result["emptied"], result["refilled"]
    assert refilled["foreign_freed"] > 0  # the arenas made before install were unmapped
    assert refilled["fallbacks"] == 0
    # With two rounds alive at a time, the arenas in use stop growing once rounds are freed.
    live = [s["arenas_live"] for s in rounds]
    assert live[-1] - live[3] < (live[1] - live[0]) // 2, live
    # Freed at once, whole arenas go on the free list ...
    assert emptied["arenas_free"] > live[-1] // 2, emptied
    # ... and are handed out again before any more address space is carved (what was freed
    # in part is filled first: pymalloc prefers its fullest arenas).
    assert refilled["arenas_free"] < emptied["arenas_free"], refilled
    carved = [s["arenas_live"] + s["arenas_free"] for s in (emptied, refilled)]
    assert carved[1] == carved[0], carved


@pytest.mark.skipif(
    not THP.exists() or "[never]" in THP.read_text(), reason="no transparent huge pages here"
)
def test_objects_live_on_huge_pages() -> None:
    result = _child(
        """
        import json
        from entrypoints.heap import use_huge_pages
        assert use_huge_pages()
        members = [{"id": i, "lots": [i, i + 1]} for i in range(400_000)]
        address = id(members[200_000])
        huge = None
        with open("/proc/self/smaps") as smaps:
            inside = False
            for line in smaps:
                head = line.split()[0]
                if "-" in head and not head.endswith(":"):
                    low, high = (int(x, 16) for x in head.split("-"))
                    inside = low <= address < high
                elif inside and head == "AnonHugePages:":
                    huge = int(line.split()[1])
        print(json.dumps({"huge_kb": huge}))
        """
    )
    huge = result["huge_kb"]
    assert isinstance(huge, int) and huge >= 2048, result


def test_switched_off_by_the_environment() -> None:
    result = _child(
        """
        import json
        from entrypoints.heap import use_huge_pages
        from entrypoints import _arena
        print(json.dumps([use_huge_pages(), _arena.stats()["installed"]]))
        """,
        LOYALTY_HUGE_PAGES="0",
    )
    assert result == [False, False]
