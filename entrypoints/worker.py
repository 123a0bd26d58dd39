"""`loyalty worker`: create the topics if needed, then run the Faust worker until stopped."""

from __future__ import annotations

import asyncio

from config import Settings
from streams.app import create_engine
from streams.topics import ensure_topics


def run_worker(settings: Settings, loglevel: str = "warn") -> None:
    import faust

    asyncio.run(ensure_topics(settings))
    engine = create_engine(settings)
    # Worker installs its own signal handlers: SIGTERM/SIGINT stop it cleanly, committing offsets.
    faust.Worker(engine.app, loglevel=loglevel, quiet=True).execute_from_commandline()
