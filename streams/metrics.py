"""Engine metrics: one `Meter` per worker, read by the Prometheus endpoint and published to the
ops topic by a timer. Counts come from the partition runners' tallies as they happen."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as PromCounter

from schemas.status import OpsMetrics
from streams.runner import Tally

OUTCOMES = ("applied", "duplicates", "rejected", "dead_letters", "watermarks")


class Meter:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.worker = f"{socket.gethostname()}:{id(self):x}"
        self._inputs = PromCounter(
            "loyalty_inputs", "Input messages by outcome", ["outcome"], registry=self.registry
        )
        self._received = PromCounter(
            "loyalty_received", "Input messages received", registry=self.registry
        )
        self._rejections = PromCounter(
            "loyalty_rejections", "Rejected inputs by code", ["code"], registry=self.registry
        )
        self._lag = Gauge(
            "loyalty_consumer_lag",
            "Messages not yet read, per topic and partition",
            ["topic", "partition"],
            registry=self.registry,
        )
        self._rate = Gauge(
            "loyalty_events_per_second",
            "Inputs per second since the last report",
            registry=self.registry,
        )
        self._last = (time.monotonic(), 0)
        self.retired = Tally()
        self._reported = Tally()

    def retire(self, tally: Tally) -> None:
        """Keep the counts of a runner that is dropped (rebalance) in the worker's totals."""
        _add(self.retired, tally)

    def totals(self, live: Iterable[Tally]) -> Tally:
        total = _copy(self.retired)
        for tally in live:
            _add(total, tally)
        return total

    def report(self, live: Iterable[Tally], lag: dict[tuple[str, int], int]) -> OpsMetrics:
        t = self.totals(live)
        now = time.monotonic()
        then, received_then = self._last
        rate = (t.received - received_then) / max(now - then, 1e-9)
        self._last = (now, t.received)
        self._rate.set(rate)
        before, self._reported = self._reported, t
        self._received.inc(max(t.received - before.received, 0))
        for name in OUTCOMES:
            self._inputs.labels(name).inc(max(getattr(t, name) - getattr(before, name), 0))
        for code, count in (t.rejected_by_code - before.rejected_by_code).items():
            self._rejections.labels(str(code)).inc(count)
        for (topic, partition), behind in lag.items():
            self._lag.labels(topic, str(partition)).set(behind)
        return OpsMetrics(
            worker=self.worker,
            at=datetime.now(UTC).isoformat(),
            received=t.received,
            applied=t.applied,
            duplicates=t.duplicates,
            rejected=t.rejected,
            dead_letters=t.dead_letters,
            watermarks=t.watermarks,
            reconciled=t.reconciled,
            events_per_second=round(rate, 1),
            rejected_by_code={str(k): v for k, v in sorted(t.rejected_by_code.items())},
            lag={f"{topic}:{p}": n for (topic, p), n in sorted(lag.items())},
        )


def _copy(tally: Tally) -> Tally:
    total = Tally()
    _add(total, tally)
    return total


def _add(total: Tally, tally: Tally) -> None:
    total.received += tally.received
    for name in OUTCOMES:
        setattr(total, name, getattr(total, name) + getattr(tally, name))
    total.rejected_by_code.update(tally.rejected_by_code)
