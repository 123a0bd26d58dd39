"""The garbage-collector policy of long runs over the rulebook (replay, reports).

Members' state is long-lived and grows with membership; CPython's cyclic collector rescans
it in its older generations again and again (measured: ~10-15% of a replay's time on the
100k bench workload). The rulebook creates no reference cycles while it runs (a test checks
it), so at each clock what is alive is moved out of the collector's sight (`gc.freeze`).

A full collection (everything unfrozen and scanned) costs time in proportion to the whole heap:
measured, one took 0.157 s of a 3.48 s replay at 100k events and 1.8 s of 46 s at 1M (~4%),
and it frees nothing there. So it runs only once cycles are known to be made: when any
collection has found cyclic garbage (the young collections see every object before it is
frozen, so a code path that makes cycles shows itself), and then every `FULL_EVERY` clocks, so
such a cycle is freed late, never leaked. A cycle that never dies young is freed after `close`.

Between clocks the young generation is collected every `YOUNG_THRESHOLD` allocations instead of
CPython's 700: measured with `gc.callbacks` on the 100k bench workload (compiled rulebook),
young collections took 0.143 s in 759 runs at 700 and 0.013 s in 6 at 20,000, ~2% of a
replay; at 1M events, 0.68 s in 158 runs at 20,000 and 0.21 s in 11 at 100,000 (the count
restarts at each freeze, so most epochs never reach it). What they would free is reference
cycles, which the rulebook does not make.

The heap itself is put on transparent huge pages (`use_huge_pages`, entrypoints/_arena.c):
members' state is touched at random, one member per input, and on 4 KiB pages a large table
misses the TLB on most inputs. Measured at 1M events and 100,000 members (~900 MB), runs of
both sides at once, one per core: faster in 6 of 6 pairs, median +5% (docs/performance.md).
"""

from __future__ import annotations

import gc
import os
from typing import Any

# `LOYALTY_HUGE_PAGES=0` keeps CPython's own arenas (a host where huge pages are unwelcome).
HUGE_PAGES_ENV = "LOYALTY_HUGE_PAGES"


def use_huge_pages() -> bool:
    """From now on this process's small objects live in arenas advised onto 2 MiB pages
    (the kernel decides: with THP `never` they are ordinary pages). Once per process, never
    undone: arenas it handed out must go back to it. Whether it is in use; False where the
    extension could not be built or `LOYALTY_HUGE_PAGES=0`."""
    if os.environ.get(HUGE_PAGES_ENV, "1") == "0":
        return False
    try:
        from entrypoints import _arena
    except ImportError:  # built without a C compiler: CPython's arenas
        return False
    _arena.install()
    return True


FULL_EVERY = 256
YOUNG_THRESHOLD = 100_000


class HeapPolicy:
    def __init__(self, full_every: int = FULL_EVERY) -> None:
        use_huge_pages()
        self.full_every = full_every
        self.clocks = 0
        # Set once any collection (young, full, or one a library asks for) frees cyclic garbage.
        self.cycles_seen = False
        self._thresholds = gc.get_threshold()
        young, *older = self._thresholds
        gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
        gc.callbacks.append(self._observe)

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["collected"]:
            self.cycles_seen = True

    def at_clock(self) -> None:
        self.clocks += 1
        if self.cycles_seen and self.clocks % self.full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def close(self) -> None:
        """Hand everything back to the collector (a library caller's heap is its own)."""
        gc.callbacks.remove(self._observe)
        gc.unfreeze()
        gc.set_threshold(*self._thresholds)
