"""A dependency-free progress bar on stderr (only when it is a terminal, or when forced)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator


class Progress:
    def __init__(self, total: int, label: str, enabled: bool | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._next = 0
        self._step = max(self.total // 100, 1)
        self._started = time.monotonic()
        self.read = 0  # bytes read through `lines`

    def lines(self, source: Iterable[bytes]) -> Iterator[bytes]:
        """The source's lines as they are read, the bar following the bytes read (`self.read`)."""
        for number, line in enumerate(source, 1):
            self.read += len(line)
            if number % 4096 == 0:
                self.update(self.read)
            yield line

    def update(self, done: int) -> None:
        if not self.enabled or done < self._next:
            return
        self._next = done + self._step
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = done / max(time.monotonic() - self._started, 1e-9)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {share:6.1%} {done:,} ({rate:,.0f}/s)")
        sys.stderr.flush()

    def close(self, done: int) -> None:
        if self.enabled:
            self._next = 0
            self.update(done)
            sys.stderr.write("\n")
