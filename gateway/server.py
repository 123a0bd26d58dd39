"""`loyalty gateway`: build the app from settings and serve it with uvicorn."""

from __future__ import annotations

import logging
import sys

from config import Settings
from gateway.app import create_gateway
from gateway.credentials import Credentials


def run_gateway(settings: Settings) -> int:
    if settings.gateway_credentials is None:
        print(
            "LOYALTY_GATEWAY_CREDENTIALS must name a credentials file (see gateway.example.yaml)",
            file=sys.stderr,
        )
        return 2
    import redis.asyncio as aioredis
    import uvicorn

    credentials = Credentials.load(settings.gateway_credentials)
    client = aioredis.from_url(
        settings.effective_redis_url, socket_timeout=2, socket_connect_timeout=2
    )
    app = create_gateway(settings, credentials, client)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    uvicorn.run(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    return 0
