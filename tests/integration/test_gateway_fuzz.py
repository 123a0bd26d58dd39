"""Schemathesis against the gateway's own OpenAPI spec, served by `loyalty gateway` (uvicorn)
over real Kafka and Redis: no generated request may cause a 5xx, and none may be accepted,
because none carries valid credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings

from config import Settings
from localinfra.process import free_port
from tests.integration.gateway_client import CREDENTIALS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway_url(
    infra_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gateway")
    credentials = folder / "credentials.yaml"
    credentials.write_text(yaml.safe_dump(CREDENTIALS))
    port = free_port()
    env = {
        **os.environ,
        "LOYALTY_NAMESPACE": "fuzz",
        "LOYALTY_KAFKA_BOOTSTRAP": infra_settings.bootstrap_servers,
        "REDIS_URL": infra_settings.effective_redis_url,
        "LOYALTY_GATEWAY_CREDENTIALS": str(credentials),
        "LOYALTY_GATEWAY_PORT": str(port),
    }
    log = (folder / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "gateway"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError(Path(log.name).read_text())
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def check(case: schemathesis.Case, seen: Counter[int]) -> None:
    response = case.call(timeout=10)
    seen[response.status_code] += 1
    path = case.operation.path
    assert response.status_code < 500 or path == "/readyz", (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    if path.startswith("/v1/"):
        assert 400 <= response.status_code < 500, (
            f"unsigned request answered {response.status_code}"
        )
    assert "Traceback" not in response.text


def test_no_generated_request_breaks_or_gets_in(gateway_url: str) -> None:
    # Driven directly rather than through schemathesis' pytest plugin, whose lazy-fixture
    # loader does not work with pytest 9 (Function._nodeid).
    schema = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    seen: Counter[int] = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case: schemathesis.Case) -> None:
            check(case, seen)

        run()
    # The run really exercised the API: many calls, refused by authentication.
    assert sum(seen.values()) > 100 and seen[401] > 50, seen
