"""`loyalty infra up | status | down` against the real processes."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

import localinfra
from config import BrokerMode, Settings
from entrypoints.cli import main
from localinfra.kafka import KafkaBroker, pinned_version
from localinfra.process import free_port
from localinfra.redis_server import RedisServer

pytestmark = pytest.mark.integration


def own_settings(tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        redis_port=free_port(),
    )


async def topic_names(settings: Settings) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def test_up_status_down_leaves_no_process_and_a_restart_keeps_the_data(tmp_path: Path) -> None:
    settings = own_settings(tmp_path)
    if localinfra.resolve_broker_mode(settings) is not BrokerMode.KAFKA:
        pytest.skip("no java/mvn: the real-Kafka lifecycle cannot run here")
    try:
        state = localinfra.up(settings)
        assert (state.broker, state.broker_up, state.redis_up) == ("kafka", True, True)
        assert state.broker_detail == f"Apache Kafka {pinned_version()}"
        assert localinfra.up(settings) == state  # idempotent
        from streams.topics import ensure_topics

        asyncio.run(ensure_topics(settings))
        pids = [KafkaBroker(settings).process.pid(), RedisServer(settings).process.pid()]
        assert localinfra.down(settings) == ["redis", "kafka"]
        assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in pids if pid)
        after = localinfra.status(settings)
        assert (after.broker, after.broker_up, after.redis, after.redis_up) == (
            "stopped",
            False,
            "stopped",
            False,
        )
        localinfra.up(settings)
        assert f"{settings.namespace}.purchases.v1" in asyncio.run(topic_names(settings))
    finally:
        localinfra.down(settings)


def _zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def test_infra_up_fails_with_a_reason_when_the_port_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = own_settings(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setenv("LOYALTY_STATE_DIR", str(settings.state_dir))
        monkeypatch.setenv("LOYALTY_KAFKA_PORT", str(port))
        monkeypatch.setenv("LOYALTY_REDIS_PORT", str(port))
        assert main(["infra", "up"]) == 1
    err = capsys.readouterr().err
    assert f"port {port}" in err and "taken" in err
    localinfra.down(settings)


def test_infra_status_reports_stopped_components(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("LOYALTY_KAFKA_PORT", str(free_port()))
    assert main(["infra", "status"]) == 0
    out = capsys.readouterr().out
    assert "broker: stopped" in out and "redis:  stopped" in out


def test_the_embedded_fallback_broker_starts_answers_and_stops(tmp_path: Path) -> None:
    from localinfra.kafka import metadata_ok
    from localinfra.tansu import TansuBroker

    broker = TansuBroker(own_settings(tmp_path))
    try:
        broker.start()
        assert metadata_ok(broker.bootstrap)
    finally:
        assert broker.stop() is True
    assert broker.process.pid() is None


def test_a_cluster_id_starting_with_a_dash_still_formats(tmp_path: Path) -> None:
    import base64

    settings = own_settings(tmp_path)
    if localinfra.resolve_broker_mode(settings) is not BrokerMode.KAFKA:
        pytest.skip("no java/mvn: the real-Kafka lifecycle cannot run here")
    broker = KafkaBroker(settings)
    broker.home.mkdir(parents=True)
    dashed = base64.urlsafe_b64encode(b"\xf8" + bytes(15)).decode().rstrip("=")
    assert dashed.startswith("-")
    (broker.home / "cluster.id").write_text(dashed)
    try:
        broker.start()
        assert "cluster.id=" + dashed in (broker.home / "data" / "meta.properties").read_text()
    finally:
        broker.stop()
