"""A real single-node Apache Kafka (KRaft, combined broker + controller) run from Maven jars.

The broker version is pinned in `pom.xml` beside this file. Jars are resolved once with
`mvn dependency:copy-dependencies` and cached per pom content, so changing the pin rebuilds
the cache and nothing is downloaded on later runs.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from config import Settings
from localinfra.process import (
    InfraError,
    ManagedProcess,
    port_in_use,
    require_free_port,
    wait_until,
)

_HERE = Path(__file__).parent
POM = _HERE / "pom.xml"
LOG4J = _HERE / "log4j2.properties"
START_TIMEOUT_S = 90.0


def pinned_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if match is None:
        raise InfraError(f"{POM} does not pin <kafka.version>")
    return match.group(1)


class KafkaBroker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.state_dir / "kafka"
        self.process = ManagedProcess("kafka", settings.state_dir / "run")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    def libs_dir(self) -> Path:
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
        return self.settings.cache_dir / f"kafka-{pinned_version()}-{digest}" / "libs"

    def ensure_jars(self) -> Path:
        libs = self.libs_dir()
        if (libs / ".complete").exists():
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise InfraError("Maven (mvn) is not on PATH: it resolves the Kafka jars")
        staging = libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        print(f"resolving Apache Kafka {pinned_version()} from Maven Central (cached after)")
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise InfraError(f"downloading the Kafka jars with Maven failed:\n{tail}")
        (staging / ".complete").write_text(pinned_version())
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        return libs

    def _properties(self) -> str:
        s = self.settings
        data = (self.home / "data").resolve()
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},"
                f"CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={data}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=8",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # Topics are created by the engine with explicit partition counts; an auto-created
                # topic would silently break co-partitioning.
                "auto.create.topics.enable=false",
                "log.cleaner.backoff.ms=1000",
                "",
            ]
        )

    def _java(self, libs: Path, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise InfraError("java is not on PATH: real Kafka needs a JVM (17+)")
        return [java, f"-Dlog4j2.configurationFile=file:{LOG4J}", "-cp", f"{libs}/*", *args]

    def start(self) -> None:
        if self.process.pid() is not None:
            return
        require_free_port(self.settings.kafka_port, "Kafka")
        require_free_port(self.settings.kafka_controller_port, "the Kafka controller")
        libs = self.ensure_jars()
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(self._properties())
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = self._cluster_id(libs)
            fmt = subprocess.run(
                # "--cluster-id=<id>": a base64url id may start with "-", which the tool
                # would otherwise read as an option (1 start in 64 failed that way).
                self._java(
                    libs,
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={cluster_id}",
                    "-c",
                    str(props),
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise InfraError(f"formatting Kafka storage failed:\n{fmt.stdout}{fmt.stderr}")
        heap = self.settings.kafka_heap
        self.process.start(
            self._java(libs, f"-Xms{heap}", f"-Xmx{heap}", "kafka.Kafka", str(props))
        )
        ready = wait_until(self._ready_or_dead, START_TIMEOUT_S, interval=0.5)
        if self.process.pid() is None:
            raise InfraError(f"Kafka exited during start-up:\n{self.process.log_tail()}")
        if not ready:
            self.process.stop()
            raise InfraError(
                f"Kafka did not answer a metadata request in {START_TIMEOUT_S:.0f}s:\n"
                f"{self.process.log_tail()}"
            )

    def _cluster_id(self, libs: Path) -> str:
        # Kept so a re-format after a wiped data dir does not need a new id.
        id_file = self.home / "cluster.id"
        if not id_file.exists():
            # Kafka cluster ids are base64url-encoded 16-byte UUIDs, 22 characters.
            raw = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            id_file.write_text(raw)
        return id_file.read_text().strip()

    def _ready_or_dead(self) -> bool:
        if self.process.pid() is None:
            return True  # stop waiting; start() reports the exit
        return port_in_use(self.settings.kafka_port) and metadata_ok(self.bootstrap)

    def stop(self) -> bool:
        return self.process.stop(timeout=60.0)

    def running_version(self) -> str | None:
        """The version the running broker logged at start-up (proof it is Apache Kafka)."""
        found = re.findall(r"Kafka version: (\S+)", self.process.log_tail(lines=100_000))
        return found[-1] if found else None


def metadata_ok(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when the cluster answers a metadata request and has a controller."""
    return asyncio.run(_metadata_ok(bootstrap, timeout_s))


async def _metadata_ok(bootstrap: str, timeout_s: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return bool(cluster.get("brokers"))
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
