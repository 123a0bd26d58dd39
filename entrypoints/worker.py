"""`loyalty worker`: create the topics if needed, then run the Faust worker until stopped."""

from __future__ import annotations

import asyncio
import logging

from config import Settings
from entrypoints.heap import use_huge_pages
from streams.app import create_engine
from streams.topics import ensure_topics


def run_worker(settings: Settings, loglevel: str = "warn") -> None:
    import faust

    # Before the member tables fill: the runners' books hold every member of their partitions.
    use_huge_pages()
    asyncio.run(ensure_topics(settings))
    engine = create_engine(settings)
    if settings.metrics_port and engine.runners is not None:
        from prometheus_client import start_http_server

        # Loopback only: metrics are for the local scraper (or a sidecar), not the world.
        start_http_server(
            settings.metrics_port, addr="127.0.0.1", registry=engine.runners.meter.registry
        )
    level = {"crit": "CRITICAL", "error": "ERROR", "warn": "WARNING", "info": "INFO"}[loglevel]

    @engine.app.task  # type: ignore[untyped-decorator]
    async def quiet_logging() -> None:
        # mode leaves the root logger at DEBUG (its handler filters): every aiokafka debug call
        # then builds a LogRecord, ~10% of the worker's time in a profile.
        logging.getLogger().setLevel(level)

    # Worker installs its own signal handlers: SIGTERM/SIGINT stop it cleanly, committing offsets.
    faust.Worker(engine.app, loglevel=loglevel, quiet=True).execute_from_commandline()
