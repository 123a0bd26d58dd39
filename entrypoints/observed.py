"""One or more books driven over an events file in the engine's order, each with the accounts
and counters the liability report and the what-if simulator read. The file is read and
decoded once, whatever the number of books."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from entrypoints.heap import HeapPolicy
from entrypoints.progress import Progress
from entrypoints.replay import new_clock, ordered_inputs
from loyalty import events as ev
from loyalty.accounting import Accounts
from loyalty.book import Book, Outcome
from loyalty.inputs import Clock, Input
from loyalty.program import Program

AS_OF_CLOCK = "as-of"  # id prefix of the clock that brings every member to the as-of date


@dataclass
class Observed:
    """A book and what was seen while it applied a history."""

    book: Book
    accounts: Accounts = field(default_factory=Accounts)
    received: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # applied/duplicate/rejected
    rejected: Counter[str] = field(default_factory=Counter)  # by code
    rules: Counter[str] = field(default_factory=Counter)  # retention rules fired, by action
    barriers: Counter[str] = field(default_factory=Counter)  # built-in barriers, by kind
    # Every posting in the points currency, summed on its own: the ledger's total, checked
    # against the members' balances and the report.
    ledger_total: int = 0

    points: str = ""  # the programme's points currency

    @classmethod
    def of(cls, program: Program) -> Observed:
        return cls(Book(program), points=program.currencies.points)

    def handle(self, inp: Input) -> None:
        self.received += 1
        self.accounts.at(inp.at)
        outcome = self.book.handle(inp)
        self.outcomes[outcome.kind] += 1
        if outcome.rejection is not None:
            self.rejected[str(outcome.rejection.code)] += 1
        self._see(outcome)

    def _see(self, outcome: Outcome) -> None:
        points = self.points
        for member_id, event in outcome.events:
            self.accounts.observe(member_id, event)
            kind = type(event)
            if kind in ev.POSTING_EVENTS:
                posting = event.posting  # type: ignore[union-attr]
                if posting.currency == points:
                    self.ledger_total += posting.points
            elif kind is ev.RuleFired:
                assert isinstance(event, ev.RuleFired)
                self.rules[event.action] += 1
            elif kind is ev.BarrierApplied:
                assert isinstance(event, ev.BarrierApplied)
                self.barriers[event.barrier] += 1
        for follow_up in outcome.follow_ups:
            self._see(follow_up)

    def finish(self, as_of: date) -> None:
        """Bring every member to the end of `as_of`: what is due by then (unlocks, expiry,
        period ends, transfers in flight) happens, as a clock at that moment would do."""
        end = datetime.combine(as_of, time.max, tzinfo=UTC)
        clock = Clock(f"{AS_OF_CLOCK}/{as_of.isoformat()}", end)
        if self.book.clock_status(clock) == "new":
            outcome = self.book.handle(clock)
            self.accounts.at(end)
            self._see(outcome)
        self.accounts.close()


@dataclass
class Run:
    books: list[Observed]
    lines: int = 0
    undecodable: int = 0
    after_as_of: int = 0  # inputs later than the as-of date: left out
    latest: datetime | None = None  # the latest input time applied

    @property
    def as_of(self) -> date:
        return self.latest.date() if self.latest is not None else date.today()


def run_books(
    events: Path,
    programs: list[Program],
    as_of: date | None = None,
    progress: bool | None = None,
    label: str = "replay",
) -> Run:
    """Apply the history in `events` (up to the end of `as_of`, if given) to one book per
    programme; the file is decoded once and every input goes to every book. The clock cut
    of epochs follows the first book (programmes differing in duplicate horizon could see a
    clock as too late in one and not the other; the first one's view orders the file)."""
    run = Run([Observed.of(p) for p in programs])
    first = run.books[0].book
    end = None if as_of is None else datetime.combine(as_of, time.max, tzinfo=UTC)
    bar = Progress(os.path.getsize(events), label, progress)
    heap = HeapPolicy()  # as in replay: long-lived member states out of the collector's way
    try:
        with events.open("rb") as source:
            lines = ordered_inputs(bar.lines(source), new_clock(first))
            for _number, _line, inp, _error in lines:
                run.lines += 1
                if inp is None:
                    run.undecodable += 1
                    continue
                if end is not None and inp.at > end:
                    run.after_as_of += 1
                    continue
                if run.latest is None or inp.at > run.latest:
                    run.latest = inp.at
                for observed in run.books:
                    observed.handle(inp)
                if isinstance(inp, Clock):
                    heap.at_clock()
    finally:
        heap.close()
    bar.close(bar.read)
    for observed in run.books:
        observed.finish(as_of or run.as_of)
    if as_of is not None:
        run.latest = end
    return run
