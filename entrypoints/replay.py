"""`loyalty replay EVENTS.jsonl --program P.yaml --out DIR`: the core over a file, no Kafka.

Inputs are applied in the order of `loyalty/ordering.py` (event time within clock epochs), the
order the stream engine applies each partition in, so both give the same result.

Outputs (JSON Lines unless noted), byte for byte the same for the same input:
members.jsonl (final state per member, sorted by id), ledger.jsonl (every posting, in order),
status_changes.jsonl, rejected.jsonl (line, original event, code, message), alerts.jsonl and
summary.json, where received = applied + duplicates + rejected.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Final

import orjson

from edge.member_events import STATUS_EVENTS, status_line, utc_text
from edge.translate import Undecodable, decode_external
from entrypoints.heap import HeapPolicy
from entrypoints.progress import Progress
from loyalty import events as ev
from loyalty.book import Book, Outcome
from loyalty.calendar import iso_day
from loyalty.inputs import Clock, Input, MemberInput
from loyalty.ordering import order_key
from loyalty.program import Program
from loyalty.state import MemberState, Posting, as_of_moment, unlocked

_DUMP: Final = orjson.OPT_APPEND_NEWLINE
# Bound once: compiled, `orjson.dumps` is a module attribute lookup per call (per record).
_DUMPS: Final = orjson.dumps
_POSTINGS: Final = ev.POSTING_EVENTS
# Every event kind an output file shows; the rest (most events) are passed over at once.
_SEEN: Final = _POSTINGS | STATUS_EVENTS | {ev.AlertRaised}
# Bound as `Final`: compiled, any other module-level name (an imported one, a module's
# attribute) is looked up in a dict at each use, and these are read for every event.
_STATUS: Final = STATUS_EVENTS
_ALERT: Final = ev.AlertRaised


@dataclass
class Summary:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_code: Counter[str] = field(default_factory=Counter)
    received_by_type: Counter[str] = field(default_factory=Counter)
    follow_ups: Counter[str] = field(default_factory=Counter)
    postings: int = 0
    alerts: int = 0
    status_changes: int = 0
    members: int = 0
    # Follow-ups issued but not settled at the end (no clock after them): transfer credits
    # and returns still on their way, so the points are visibly somewhere.
    in_flight: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "reconciled": self.received == self.applied + self.duplicates + self.rejected,
            "rejected_by_code": {str(k): v for k, v in sorted(self.rejected_by_code.items())},
            "received_by_type": dict(sorted(self.received_by_type.items())),
            "follow_ups": dict(sorted(self.follow_ups.items())),
            "postings": self.postings,
            "alerts": self.alerts,
            "status_changes": self.status_changes,
            "members": self.members,
            "in_flight": dict(sorted(self.in_flight.items())),
        }


def member_json(state: MemberState, program: Program) -> dict[str, Any]:
    available, pending = unlocked(state, as_of_moment(state).ordinal)
    balances: dict[str, Any] = {
        program.currencies.points: {
            "total": state.balance,
            "available": available,
            "pending": pending,
        },
    }
    for currency in program.currencies.qualifying:
        balances[currency] = state.qualifying.get(currency, 0)
    return {
        "member_id": state.member_id,
        "tier": state.tier,
        "enrolled_on": iso_day(state.enrolled_on),
        "segment": dict(state.attributes),
        "as_of": utc_text(state.as_of),
        "balances": balances,
        "earned_tier": state.earned_tier,
        "lifetime_tier": state.lifetime_tier,
        "class_code": state.class_code,
        "lifecycle_stage": state.stage,
        "match": _match_json(state),
        "period": {
            "start": _iso(state.period_start),
            "end": _iso(state.period_end),
            "qualifying": dict(sorted(state.period_qualifying.items())),
        },
        "held": sum(h.points for h in state.held),
        "in_flight": sum(state.in_flight.values()),
        "debt": state.debt,
        "lots": len(state.lots),
    }


def _iso(day: date | None) -> str | None:
    # Not `isoformat` (it formats through sprintf, ~4,000 instructions a call, five calls a
    # member in members.jsonl): `iso_day` remembers a day's text, `utc_text` has orjson write
    # a time.
    return None if day is None else iso_day(day)


def _match_json(state: MemberState) -> dict[str, Any] | None:
    match = state.match
    if match is None:
        return None
    return {
        "tier": match.tier,
        "competitor": match.competitor,
        "granted_on": iso_day(match.granted_on),
        "ends_on": iso_day(match.ends_on),
        "target": match.target,
        "progress": match.progress,
        "confirmed_until": _iso(match.confirmed_until),
    }


class ReplayWriter:
    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.ledger = (out / "ledger.jsonl").open("wb", buffering=1 << 20)
        self.rejected = (out / "rejected.jsonl").open("wb")
        self.alerts = (out / "alerts.jsonl").open("wb")
        self.status_changes = (out / "status_changes.jsonl").open("wb")

    def files(self) -> list[IO[bytes]]:
        return [self.ledger, self.rejected, self.alerts, self.status_changes]

    def close(self) -> None:
        for f in self.files():
            f.close()


@dataclass(slots=True, init=False)
class Step:
    """One input line's fate, in the order the book applied it."""

    number: int  # line number in the file
    line: bytes
    input: Input | None  # None: undecodable
    outcome: Outcome | None = None
    error: str = ""

    # Written out: compiled, a generated `__init__` stays interpreted (mypyc/mypyc#817), and
    # every line makes a step (see `Posting.__init__` in loyalty/state.py).
    def __init__(
        self,
        number: int,
        line: bytes,
        input: Input | None,
        outcome: Outcome | None = None,
        error: str = "",
    ) -> None:
        self.number = number
        self.line = line
        self.input = input
        self.outcome = outcome
        self.error = error


Line = tuple[int, bytes, Input | None, str]  # number, raw line, decoded input (or None), error


_ORDER: Final = itemgetter(0)  # an epoch's entries by their order key (C, not a call per entry)


def blank(line: bytes) -> bool:
    """`not line.strip()` without the stripped copy (`isspace` checks the same characters)."""
    if line and line[0] == _BRACE:
        return False  # an event's usual first byte: no method call (twice a line, compiled)
    return not line or line.isspace()


_BRACE: Final = ord("{")


def ordered_inputs(lines: Iterable[bytes], is_new_clock: Callable[[Clock], bool]) -> Iterator[Line]:
    """Event lines in the engine's order (loyalty/ordering.py): clocks cut epochs, and inside
    an epoch inputs go by event time. `is_new_clock` is asked when a clock's line is reached,
    before the epoch it closes is handed out (a repeated clock closes none)."""
    epoch: list[tuple[tuple[datetime, int, int], bytes, MemberInput]] = []
    # An epoch is handed out here, not by a nested generator: compiled, every item through
    # `yield from` took a generic send and a second generator's resume.
    for number, line in enumerate(lines, 1):
        if blank(line):
            continue  # blank lines are not events
        try:
            inp = decode_external(line)
        except Undecodable as exc:
            yield number, line, None, str(exc)
            continue
        if isinstance(inp, Clock):
            if is_new_clock(inp):
                epoch.sort(key=_ORDER)
                for key, held, member_input in epoch:
                    yield key[2], held, member_input, ""
                epoch.clear()
            yield number, line, inp, ""
        else:
            epoch.append((order_key(inp, number), line, inp))
    epoch.sort(key=_ORDER)
    for key, held, member_input in epoch:
        yield key[2], held, member_input, ""


def new_clock(book: Book) -> Callable[[Clock], bool]:
    """`ordered_inputs`' question for a book: is this clock one it has not seen?"""
    return lambda clock: book.clock_status(clock) == "new"


def ordered_outcomes(book: Book, lines: Iterable[bytes]) -> Iterator[Step]:
    """Drive `book` over event lines in the engine's order. Every reader of an events file
    (replay, reports, what-if) goes through `ordered_inputs`, so they cannot disagree with
    the engine."""
    for number, line, inp, error in ordered_inputs(lines, new_clock(book)):
        if inp is None:
            yield Step(number, line, None, error=error)
        else:
            yield Step(number, line, inp, book.handle(inp))


def replay(events: Path, program: Program, out: Path, progress: bool | None = None) -> Summary:
    book = Book(program)
    summary = Summary()
    writer = ReplayWriter(out)
    bar = Progress(os.path.getsize(events), "replay", progress)

    heap = HeapPolicy()
    # Counted by type, named at the end: a Counter keyed by the type's name was a generic
    # attribute read and a Counter update per line, compiled.
    by_type: dict[type, int] = {}
    try:
        with events.open("rb") as source:
            # `ordered_outcomes` written out: compiled, each generator layer is a resume and a
            # tuple or a `Step` per line. Every non-blank line comes out once: `received`.
            for number, line, inp, error in ordered_inputs(bar.lines(source), new_clock(book)):
                summary.received += 1
                if inp is None:
                    _reject(writer, summary, number, line, "undecodable", error)
                    continue
                outcome = book.handle(inp)
                kind = type(inp)
                by_type[kind] = by_type.get(kind, 0) + 1
                if kind is Clock:
                    heap.at_clock()
                    # Nobody reads it here: cleared, it holds an epoch's members, not every
                    # member (a set that size is a cache miss per insertion).
                    book.touched.clear()
                _record(writer, summary, number, line, outcome, top=True)
        bar.close(bar.read)
        for kind, count in by_type.items():
            summary.received_by_type["clock" if kind is Clock else kind.__name__] += count
        summary.members = len(book.members)
        for follow_up in book.pending:
            summary.in_flight[f"{type(follow_up).__name__}:count"] += 1
            summary.in_flight[f"{type(follow_up).__name__}:points"] += follow_up.points
        with (out / "members.jsonl").open("wb", buffering=1 << 20) as members:
            for member_id in sorted(book.members):
                members.write(_DUMPS(member_json(book.members[member_id], program), option=_DUMP))
    finally:
        heap.close()
        writer.close()
    (out / "summary.json").write_bytes(
        orjson.dumps(summary.as_json(), option=orjson.OPT_INDENT_2 | _DUMP)
    )
    return summary


def _reject(
    writer: ReplayWriter, summary: Summary, number: int, line: bytes, code: str, message: str
) -> None:
    summary.rejected += 1
    summary.rejected_by_code[code] += 1
    try:
        original: Any = orjson.loads(line)
    except orjson.JSONDecodeError:
        original = line.decode("utf-8", "replace").rstrip("\n")
    writer.rejected.write(
        orjson.dumps(
            {"line": number, "event": original, "code": code, "message": message}, option=_DUMP
        )
    )


def _record(
    writer: ReplayWriter, summary: Summary, number: int, line: bytes, outcome: Outcome, top: bool
) -> None:
    if top:
        if outcome.kind == "applied":
            summary.applied += 1
        elif outcome.kind == "duplicate":
            summary.duplicates += 1
        else:
            assert outcome.rejection is not None
            _reject(
                writer, summary, number, line, outcome.rejection.code, outcome.rejection.message
            )
    else:
        summary.follow_ups[f"{type(outcome.input).__name__}:{outcome.kind}"] += 1
    postings: list[bytes] = []
    for _member, event in outcome.events:
        kind = type(event)
        if kind not in _SEEN:
            continue  # the book's own bookkeeping (an input recorded, time passing, ...)
        if kind in _POSTINGS:
            # Read by name, then typed: `fields` is then a native call, not a generic method
            # call on an attribute of the union (every posting).
            posting: Posting = getattr(event, "posting")  # noqa: B009
            postings.append(posting.line(_DUMP))
        if kind in _STATUS:  # a hold's posting is also a member event
            writer.status_changes.write(status_line(event, _DUMP))
            summary.status_changes += 1
        elif kind is _ALERT:
            assert isinstance(event, ev.AlertRaised)
            writer.alerts.write(
                orjson.dumps(
                    {
                        "member_id": event.member_id,
                        "at": utc_text(event.at),
                        "code": event.code,
                        "message": event.message,
                        "cause": event.cause,
                    },
                    option=_DUMP,
                )
            )
            summary.alerts += 1
    if postings:
        writer.ledger.write(b"".join(postings))
        summary.postings += len(postings)
    for follow_up in outcome.follow_ups:
        _record(writer, summary, number, line, follow_up, top=False)
