"""The baseline `make bench` holds the engine against: the same rulebook in an idiomatic Faust
agent, as a Faust tutorial would write it.

One agent over the input topics; per event: decode, `Book.handle`, every changed member written
to a Faust table (changelog included), and every output record sent with an awaited
`Topic.send`. No epochs, no barriers, no checkpoints: events are applied in arrival order
within a partition, and a transfer's credit settles at the next clock this worker sees (one
book for the whole worker, so one worker only). It is a yardstick of cost, not an engine: it
does not equal replay, and a crash would lose or repeat work.

Run by bench/suite.py as `python -m bench.idiomatic` with the worker's environment
(`LOYALTY_NAMESPACE`, `LOYALTY_KAFKA_BOOTSTRAP`, `LOYALTY_PARTITIONS`, `LOYALTY_PROGRAM`); it
reports a flush marker on the ops topic as the engine does, so the bench times both alike.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import orjson

from config import Settings
from edge.member_events import STATUS_EVENTS, status_record
from edge.program_file import load_program
from edge.translate import Undecodable, decode_external
from loyalty import events as ev
from loyalty.book import Book, Outcome
from schemas.status import OpsProgress
from streams import state_codec
from streams.app import faust_settings
from streams.runner import CONTROL_KEY, member_key
from streams.topics import TopicNames


def create_app(settings: Settings) -> Any:
    import faust

    names = TopicNames(settings.namespace)
    program = load_program(settings.program)
    app = faust.App(
        f"{settings.namespace}.idiomatic",
        store="memory://",
        # Under the worker's state directory, not the working directory (Faust's default).
        datadir=str(settings.state_dir / "faust-idiomatic"),
        **faust_settings(settings),
    )

    def topic(*topic_names: str) -> Any:
        return app.topic(
            *topic_names,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
        )

    inputs = topic(*names.inputs)
    ledger, member_events, ops = topic(names.ledger), topic(names.member_events), topic(names.ops)
    table = app.Table(
        "idiomatic-members", partitions=settings.partitions, key_type=bytes, value_type=bytes
    )
    book = Book(program)
    flushes: Counter[tuple[str, int]] = Counter()  # (marker, partition) -> input topics seen

    async def send_outputs(outcome: Outcome) -> None:
        for member, event in outcome.events:
            key = member.encode()
            if type(event) in ev.POSTING_EVENTS:
                posting = event.posting  # type: ignore[union-attr]
                await ledger.send(key=key, value=orjson.dumps(posting))
            if type(event) in STATUS_EVENTS:
                await member_events.send(key=key, value=orjson.dumps(status_record(event)))
        for follow_up in outcome.follow_ups:
            await send_outputs(follow_up)

    @app.agent(inputs, name="idiomatic")
    async def accrue(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            if message.key == CONTROL_KEY:
                marker = str(orjson.loads(message.value)["flush"])
                flushes[marker, message.partition] += 1
                if flushes[marker, message.partition] == len(names.inputs):
                    done = OpsProgress(
                        kind="flushed",
                        marker=marker,
                        partition=message.partition,
                        members=len(book.members),
                    )
                    await ops.send(value=done.model_dump_json().encode())
                continue
            try:
                inp = decode_external(message.value)
            except Undecodable:
                continue  # counted nowhere: a baseline, not an engine
            outcome = book.handle(inp)
            for member_id in book.touched:
                table[member_key(member_id)] = state_codec.encode(book.members[member_id])
            book.touched.clear()
            await send_outputs(outcome)

    return app


def main() -> None:
    import faust

    settings = Settings()
    app = create_app(settings)

    @app.task  # type: ignore[untyped-decorator]
    async def quiet_logging() -> None:
        logging.getLogger().setLevel(logging.WARNING)  # as the engine worker does

    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
