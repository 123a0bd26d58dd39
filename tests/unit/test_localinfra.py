"""Process handling and broker choice, without starting Kafka (the integration tests do)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

import localinfra
from config import BrokerMode, Settings
from localinfra.kafka import KafkaBroker, pinned_version
from localinfra.process import InfraError, ManagedProcess, require_free_port


def test_a_managed_process_is_stopped_with_its_children(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", tmp_path)
    # A shell that starts a child: stopping must take the whole process group.
    pid = proc.start(["/bin/sh", "-c", f"{sys.executable} -c 'import time; time.sleep(60)' & wait"])
    assert proc.pid() == pid
    assert proc.stop(timeout=5) is True
    assert proc.pid() is None and not proc.pid_file.exists()
    assert proc.stop() is False


def test_a_stale_pid_file_is_ignored(tmp_path: Path) -> None:
    proc = ManagedProcess("ghost", tmp_path)
    proc.pid_file.write_text("999999\n")
    assert proc.pid() is None


def test_a_taken_port_is_named_in_the_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(InfraError, match=f"port {port}.*taken"):
            require_free_port(port, "Kafka")


def test_forcing_kafka_without_java_fails_instead_of_falling_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(localinfra.shutil, "which", lambda name: None)
    with pytest.raises(InfraError, match="java"):
        localinfra.resolve_broker_mode(Settings(broker=BrokerMode.KAFKA))
    assert localinfra.resolve_broker_mode(Settings(broker=BrokerMode.AUTO)) is BrokerMode.EMBEDDED


def test_auto_picks_real_kafka_when_java_and_maven_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localinfra.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert localinfra.resolve_broker_mode(Settings(broker=BrokerMode.AUTO)) is BrokerMode.KAFKA


def test_the_jar_cache_is_keyed_by_the_pinned_version(tmp_path: Path) -> None:
    libs = KafkaBroker(Settings(cache_dir=tmp_path)).libs_dir()
    assert libs.parent.name.startswith(f"kafka-{pinned_version()}-")
    assert pinned_version().split(".")[0] in {"3", "4"}


def test_broker_properties_disable_topic_auto_creation(tmp_path: Path) -> None:
    props = KafkaBroker(Settings(state_dir=tmp_path, kafka_port=41000))._properties()
    assert "auto.create.topics.enable=false" in props
    assert "listeners=PLAINTEXT://127.0.0.1:41000" in props
