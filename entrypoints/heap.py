"""The garbage-collector policy of long runs over the rulebook (replay, reports).

Members' state is long-lived and grows with membership; CPython's cyclic collector rescans
it in its older generations again and again (measured: ~10-15% of a replay's time on the
100k bench workload). The rulebook creates no reference cycles while it runs (a test checks
it), so at each clock what is alive is moved out of the collector's sight (`gc.freeze`). A
full collection still runs every `FULL_EVERY` clocks, so a cycle that does appear (from a
future change, or a library) is freed late, never leaked.

Between clocks the young generation is collected every `YOUNG_THRESHOLD` allocations instead of
CPython's 700: measured with `gc.callbacks` on the 100k bench workload (compiled rulebook),
young collections took 0.143 s in 759 runs at 700 and 0.013 s in 6 at 20,000, ~2% of a
replay. What they would free is reference cycles, which the rulebook does not make.
"""

from __future__ import annotations

import gc

FULL_EVERY = 256
YOUNG_THRESHOLD = 20_000


class HeapPolicy:
    def __init__(self, full_every: int = FULL_EVERY) -> None:
        self.full_every = full_every
        self.clocks = 0
        self._thresholds = gc.get_threshold()
        young, *older = self._thresholds
        gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)

    def at_clock(self) -> None:
        self.clocks += 1
        if self.clocks % self.full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def close(self) -> None:
        """Hand everything back to the collector (a library caller's heap is its own)."""
        gc.unfreeze()
        gc.set_threshold(*self._thresholds)
