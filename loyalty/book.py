"""The book of all members: idempotency, time, follow-ups between members, the due index and
grading.

Pure and in memory: `loyalty replay` drives one book over a whole file; the stream engine drives
one per partition. Same inputs in the same order per member give the same postings and states.

Follow-ups between members (a transfer's credit, its return) settle at the next clock, never
inline: the recipient may live in another partition, and a clock is the one point every
partition reaches in the same order, so the stream and replay settle them identically.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from loyalty import events as ev
from loyalty import inputs
from loyalty.apply import apply, apply_all
from loyalty.calendar import ordinal_of
from loyalty.decide import decide
from loyalty.due import decide_due, due_changes, next_due
from loyalty.fused import FUSED, Memo
from loyalty.grading import (
    Histogram,
    band_for,
    class_code,
    member_segment,
    next_period,
    period_key,
    periods_from,
    thresholds,
)
from loyalty.identity import COMMAND_KEY, digest, key_of, same_input
from loyalty.inputs import Clock, Input, MemberInput, TransferReceived, TransferReturned
from loyalty.program import Program
from loyalty.rebuild import rebuilt
from loyalty.rejections import Code, Rejected
from loyalty.retention import decide_rules
from loyalty.state import NO_DAY, MemberState
from loyalty.status import decide_derived, decide_status

# Clock ids are remembered for the duplicate horizon but at most this many (a tick a minute
# for 90 days would be 130k ids in every partition's marks).
CLOCK_IDS_KEPT: Final = 10_000
OutcomeKind = Literal["applied", "duplicate", "rejected"]
FollowUp = TransferReceived | TransferReturned
INPUT_TYPES = {  # wire names, for retention rules restricted to some inputs
    "Enrol": "member_enrolled",
    "Purchase": "purchase",
    "Refund": "refund",
    "FlightFlown": "flight_flown",
    "FlightCancelled": "flight_cancelled",
    "PartnerAccrual": "partner_accrual",
    "Redeem": "redeem",
    "TransferPoints": "transfer_points",
    "TransferReceived": "transfer_received",
    "TransferReturned": "transfer_returned",
    "StatusMatchRequest": "status_match_request",
    "RetroClaim": "retro_claim",
    "ManualAdjustment": "manual_adjustment",
    "DecideHold": "hold_decision",
}

# By type: `type(inp).__name__` is a generic attribute read from compiled code, per input.
_WIRE_NAMES: Final[dict[type, str]] = {
    getattr(inputs, name): wire for name, wire in INPUT_TYPES.items()
}

ClockStatus = Literal["new", "duplicate", "conflict", "too_late"]
Remembered = dict[str, tuple[str, int]]  # key -> (content digest, day ordinal)


@dataclass(init=False)
class Outcome:
    kind: OutcomeKind
    input: Input
    events: list[tuple[str, ev.DomainEvent]] = field(default_factory=list)  # (member, event)
    rejection: Rejected | None = None
    follow_ups: list[Outcome] = field(default_factory=list)

    def __init__(  # written out: one per input (see `loyalty.state.Posting.__init__`)
        self,
        kind: OutcomeKind,
        input: Input,
        events: list[tuple[str, ev.DomainEvent]] | None = None,
        rejection: Rejected | None = None,
        follow_ups: list[Outcome] | None = None,
    ) -> None:
        self.kind = kind
        self.input = input
        self.events = [] if events is None else events
        self.rejection = rejection
        self.follow_ups = [] if follow_ups is None else follow_ups

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(frozen=True)
class BookMarks:
    grading_period: str | None  # the grading period of the latest clock
    clocks: Remembered  # recent clock ids (duplicates and conflicts)
    strangers: dict[str, Remembered]  # rejected input keys of non-members
    pending: tuple[FollowUp, ...] = ()  # follow-ups issued, to settle at the next clock
    now: datetime | None = None  # the latest clock's time


@dataclass(frozen=True)
class GradingPart:
    """One book's share of a grading: per period, per segment, members per volume; and its
    members per segment (for periods it has no histogram of)."""

    periods: dict[str, dict[str, Histogram]]
    sizes: dict[str, int]


@dataclass(frozen=True)
class GradingResult:
    period: str
    segment: str
    histogram: Histogram
    thresholds: list[int | None]


class Book:
    def __init__(self, program: Program, fused: bool = True) -> None:
        """`fused=False` takes the general path for every input (the fused path's reference,
        loyalty/fused.py)."""
        self.program = program
        self._hot = program.hot  # read natively after every input (`program` is interpreted)
        self._fused: dict[type, Any] = dict(FUSED) if fused else {}
        self._fast = fused  # time alone passes without building its event, too
        self.members: dict[str, MemberState] = {}
        # The due index: each member's next due day (on its state: `MemberState._due`), the
        # members due on each day, and a heap of those days. Buckets, not a heap of (day,
        # member) entries: a member rescheduled moves between two sets instead of leaving a
        # stale entry behind, and a clock takes a day's members at once (the heap's tuple
        # comparisons were a fifth of a clock's work). Days are day ordinals: ints hash and
        # compare natively, dates through generic calls.
        self._buckets: dict[int, set[str]] = {}
        self._days: list[int] = []  # a heap; a day may be in it twice, its bucket once
        self._clocks: Remembered = {}  # recent clock ids, oldest first
        self._strangers: dict[str, Remembered] = {}  # member id -> rejected input keys
        self._now: datetime | None = None  # the latest clock's time: the book's event time
        # Derived from `_now` (set with it, in `_set_now`): checked for every input.
        self._late_before: datetime | None = None  # inputs before this are too late
        # Day ordinal: keys of inputs before it can go (a copy of them would be too late).
        self._forget_day = 0
        self._horizon = timedelta(days=program.windows.duplicate_horizon_days)
        self._sweep_every = max(1, program.windows.duplicate_horizon_days // 8)
        self._strangers_swept = 0
        self._grading_period: str | None = None  # the grading period of the latest clock
        self.gradings: list[GradingResult] = []
        self.pending: list[FollowUp] = []  # issued since the last clock, settled at the next
        self.touched: set[str] = set()  # members changed since the caller last cleared it

    def restore(self, states: Iterable[MemberState], marks: BookMarks | None = None) -> None:
        """Take over members restored from storage (a stream partition's changelog), and the
        book's own marks, and rebuild the due index. The states become this book's."""
        for state in states:
            self.members[state.member_id] = state
            state._due = NO_DAY  # indexed afresh here, whatever another book had
            self._schedule(state)
        if marks is not None:
            self._grading_period = marks.grading_period
            self._clocks = dict(marks.clocks)
            self._strangers = {m: dict(seen) for m, seen in marks.strangers.items()}
            self.pending = list(marks.pending)
            self._set_now(marks.now)

    def marks(self) -> BookMarks:
        """What the book remembers beyond its members (persisted beside them)."""
        return BookMarks(
            self._grading_period,
            dict(self._clocks),
            {m: dict(seen) for m, seen in self._strangers.items()},
            tuple(self.pending),
            self._now,
        )

    def handle(self, inp: Input) -> Outcome:
        """Apply one input: applied, a duplicate of one seen before, or rejected."""
        if isinstance(inp, Clock):
            status = self.clock_status(inp)
            if status == "duplicate":
                return Outcome("duplicate", inp)
            if status != "new":
                return Outcome("rejected", inp, rejection=self.clock_rejection(inp, status))
            self.begin_clock(inp)
            outcome = Outcome("applied", inp)
            if self.synchronises(inp):
                pending, outcome.events = self.dispatch_pending()
                outcome.follow_ups = self.settle(pending, inp)
            outcome.events += self.advance(inp)
            periods = self.close_period(inp)
            if periods is not None:
                outcome.events += self.grade(periods, inp.at, inp.event_id)
            return outcome
        return self._handle_member(inp)

    # -- a clock, step by step (the stream runs the steps around its partition barriers) -------
    def knows_clock(self, clock_id: str) -> bool:
        return clock_id in self._clocks

    def clock_status(self, clock: Clock) -> ClockStatus:
        """What a clock is to this book: new, a copy of one applied, a different clock under
        a used id, or older than the duplicate horizon (its id may be forgotten)."""
        if self._now is not None and clock.at < self._now - self._horizon:
            return "too_late"
        known = self._clocks.get(clock.event_id)
        if known is None:
            return "new"
        return "duplicate" if same_input(known[0], clock, digest(clock)) else "conflict"

    def clock_rejection(self, clock: Clock, status: ClockStatus) -> Rejected:
        if status == "conflict":
            return Rejected(
                Code.EVENT_ID_CONFLICT,
                f"clock {clock.event_id} was already applied with another time",
            )
        return Rejected(
            Code.TOO_LATE,
            f"clock at {clock.at.isoformat()} is older than the duplicate horizon "
            f"({self._horizon.days} days before {self._now})",
        )

    def begin_clock(self, clock: Clock) -> None:
        """Record a new clock (see `clock_status`): its id, and the book's time."""
        if self._now is None or clock.at > self._now:
            self._set_now(clock.at)
        self._clocks[clock.event_id] = (digest(clock), clock.at.toordinal())
        cutoff = self._forget_day
        if cutoff >= self._strangers_swept + self._sweep_every:
            self._strangers_swept = cutoff
            for member_id in list(self._strangers):
                kept = {k: v for k, v in self._strangers[member_id].items() if v[1] >= cutoff}
                if kept:
                    self._strangers[member_id] = kept
                else:
                    del self._strangers[member_id]
        clocks = self._clocks
        while clocks:
            oldest = next(iter(clocks))
            if len(clocks) <= CLOCK_IDS_KEPT and clocks[oldest][1] >= cutoff:
                break
            del clocks[oldest]

    def synchronises(self, clock: Clock) -> bool:
        """Whether every stream partition must reach this clock together: it settles the
        transfers issued since the last such clock (their recipients may live anywhere), or
        it ends a grading period, or it is the book's first (grading needs every member's
        volume). At any other clock time passes member by member, and follow-ups wait.
        Ask after `begin_clock` and before `close_period`."""
        if clock.settle:
            return True
        grading = self.program.grading
        if grading is None:
            return False
        previous = self._grading_period
        return previous is None or period_key(grading, clock.at.date()) > previous

    def take_pending(self) -> list[FollowUp]:
        pending, self.pending = self.pending, []
        return pending

    def dispatch_pending(self) -> tuple[list[FollowUp], list[tuple[str, ev.DomainEvent]]]:
        """At a clock: the follow-ups issued since the last one leave for their recipients,
        and their senders here see the transfers as no longer in flight."""
        pending = self.take_pending()
        events: list[tuple[str, ev.DomainEvent]] = []
        for follow_up in pending:
            if isinstance(follow_up, TransferReceived):
                sender = self.members.get(follow_up.from_member_id)
                if sender is not None and follow_up.transfer_id in sender.in_flight:
                    self._apply(sender, [ev.TransferDispatched(follow_up.transfer_id)], events)
        return pending, events

    def settle(self, follow_ups: Iterable[FollowUp], clock: Clock) -> list[Outcome]:
        """Apply follow-ups at the clock's time, in (issue time, event id) order, so the result
        does not depend on which partition's follow-ups arrived first. Follow-ups these issue
        (a return) wait for the next clock."""
        outcomes = []
        for follow_up in sorted(follow_ups, key=lambda f: (f.at, f.event_id)):
            # The digest is of the follow-up as issued: a redelivered copy settled at
            # another clock must still be a duplicate, not a conflict.
            print_ = digest(follow_up)
            outcomes.append(self._handle_member(replace(follow_up, at=clock.at), print_))
        return outcomes

    def _too_late(self, inp: MemberInput) -> Rejected | None:
        """An input older than the horizon behind the book's time (its latest clock): its
        key may be forgotten, so it cannot be told from a redelivery. The clock, not the
        member's own newest event, is the reference: one event stamped far in the future must
        not lock a member out."""
        late_before = self._late_before
        if late_before is None or inp.at >= late_before:
            return None
        now = self._now
        assert now is not None  # set with `_late_before`
        return Rejected(
            Code.TOO_LATE,
            f"{inp.at.isoformat()} is more than {self._horizon.days} days (the duplicate "
            f"horizon) before the engine's time {now.isoformat()}",
        )

    def _set_now(self, now: datetime | None) -> None:
        self._now = now
        self._late_before = None if now is None else now - self._horizon
        self._forget_day = 0 if now is None else (now - self._horizon).toordinal()

    def _handle_member(self, inp: MemberInput, print_: str | None = None) -> Outcome:
        member_id = inp.member_id
        state = self.members.get(member_id)
        if state is not None:
            # The state's own id object: the key the book's dicts and sets hold (see
            # `_schedule`), so the lookups below match it by identity instead of reading a
            # copy of the text in cold memory, once per table.
            member_id = state.member_id
        late = self._too_late(inp)
        if late is not None:
            # Checked before the memory, so the answer never depends on when ids are swept.
            return Outcome("rejected", inp, rejection=late)
        key = key_of(inp)
        if print_ is None:
            print_ = digest(inp)
        seen = state.seen if state is not None else self._strangers.get(member_id, {})
        known = seen.get(key)
        if known is not None:
            if same_input(known[0], inp, print_):
                return Outcome("duplicate", inp)
            if key.startswith(COMMAND_KEY):
                conflict = Rejected(
                    Code.COMMAND_ID_CONFLICT,
                    f"command id {key[len(COMMAND_KEY) :]} was already used for another command",
                )
            else:
                conflict = Rejected(
                    Code.EVENT_ID_CONFLICT,
                    f"event id {inp.event_id} was already used for a different payload",
                )
            return Outcome("rejected", inp, rejection=conflict)
        outcome = Outcome("applied", inp)
        if state is not None and state._due <= ordinal_of(inp.at):  # `NO_DAY`: never
            # Time passes up to the event before the event itself is decided.
            self._time_passes(state, inp.at, inp.event_id, outcome.events)
        fused = self._fused.get(type(inp)) if state is not None else None
        if fused is not None:
            assert state is not None
            memo = Memo(
                key, print_, self._forget_day, self._sweep_every, self._grading_period, self._hot
            )
            outputs = fused(state, inp, self.program, memo)
            if outputs is not None:
                self.touched.add(member_id)
                outcome.events.extend([(member_id, event) for event in outputs])
                self._settle(state, inp.at, inp.event_id, outcome.events, _WIRE_NAMES[type(inp)])
                self._schedule(state)
                return outcome
        try:
            decided = decide(state, inp, self.program)
        except Rejected as rejected:
            # Without its traceback: kept, it ties the frame (and the outcome holding the
            # exception) into a reference cycle only the cyclic GC can free.
            outcome.kind, outcome.rejection = "rejected", rejected.with_traceback(None)
            # Remembered like an applied event, so a redelivery stays a duplicate even when
            # it would now pass (e.g. a redemption after points arrived).
            if state is not None:
                recorded = ev.RejectionRecorded(
                    key, print_, inp.at, self._forget_day, self._sweep_every
                )
                self._apply(state, [recorded], outcome.events)
            else:
                self._remember_stranger(member_id, key, print_, inp.at)
            self._schedule(state)
            return outcome
        if state is None and decided and isinstance(decided[0], ev.Enrolled):
            state = apply(None, decided[0])
            state.version = 1
            state.seen.update(self._strangers.pop(member_id, {}))
            member_id = state.member_id
            self.members[member_id] = state
            self.touched.add(member_id)
            outcome.events.append((member_id, decided[0]))
            decided = decided[1:]
        if state is None:  # a transfer credit for a non-member: only the return follow-up
            outcome.events += [(member_id, event) for event in decided]
            self._remember_stranger(member_id, key, print_, inp.at)
        else:
            decided += decide_derived(
                state, self.program, decided, inp.at, inp.event_id, self._grading_period
            )
            decided.append(
                ev.EventRecorded(key, print_, inp.at, self._forget_day, self._sweep_every)
            )
            self._apply(state, decided, outcome.events)
            self._settle(state, inp.at, inp.event_id, outcome.events, _WIRE_NAMES.get(type(inp)))
            self._schedule(state)
        for event in decided:
            if isinstance(event, ev.FollowUpIssued):
                self.pending.append(event.follow_up)
        return outcome

    def _time_passes(
        self, state: MemberState, now: datetime, cause: str, out: list[tuple[str, ev.DomainEvent]]
    ) -> None:
        if not self._fast:
            self._apply(state, decide_due(state, self.program, now, cause), out)
        else:
            changes = due_changes(state, self.program, now, cause)
            if changes:
                changes.append(ev.TimeAdvanced(now))
                self._apply(state, changes, out)
            else:
                # Time alone (most due members): `TimeAdvanced` carried out without the
                # event, which nobody outside the book sees.
                if now > state.as_of:
                    state.as_of = now
                state.version += 1
                self.touched.add(state.member_id)
        self._settle(state, now, cause, out, None)

    def _settle(
        self,
        state: MemberState,
        now: datetime,
        cause: str,
        out: list[tuple[str, ev.DomainEvent]],
        input_type: str | None,
    ) -> None:
        """Status follows the change: tier, match, stage; then the retention rules."""
        changes = decide_status(state, self.program, self._hot, now, cause)
        if changes:  # rarely: the common case skips the call
            self._apply(state, changes, out)
        fired = decide_rules(state, self.program, self._hot, now, cause, input_type)
        if fired:
            self._apply(state, fired, out)

    def _remember_stranger(self, member_id: str, key: str, print_: str, at: datetime) -> None:
        """Input keys rejected for a member id that is not enrolled (yet). Forgotten by the
        book's clock only: what is forgotten is then too late for the member once enrolled."""
        seen = self._strangers.setdefault(member_id, {})
        seen[key] = (print_, at.toordinal())
        cutoff = self._forget_day
        while seen and seen[next(iter(seen))][1] < cutoff:
            del seen[next(iter(seen))]

    def _apply(
        self,
        state: MemberState,
        events: list[ev.DomainEvent],
        out: list[tuple[str, ev.DomainEvent]],
    ) -> None:
        if events:
            apply_all(state, events)
            state.version += len(events)
            member_id = state.member_id
            self.touched.add(member_id)
            # A comprehension, not `zip(repeat(...), strict=True)`: compiled, that parses its
            # keyword and builds two iterators generically (~1,400 instructions an input).
            out.extend([(member_id, event) for event in events])

    def advance(self, clock: Clock) -> list[tuple[str, ev.DomainEvent]]:
        """Process every member with something due up to the clock's time: by due day, and
        by member id within a day."""
        day = ordinal_of(clock.at)
        done: list[tuple[str, ev.DomainEvent]] = []
        days, buckets, members = self._days, self._buckets, self.members
        while days and days[0] <= day:
            due = heapq.heappop(days)
            bucket = buckets.pop(due, None)
            if not bucket:
                continue
            # Processing a member reschedules only that member, so the sorted snapshot
            # stays valid.
            for member_id in sorted(bucket):
                state = members[member_id]
                while True:
                    state._due = NO_DAY  # its bucket is gone
                    self._time_passes(state, clock.at, clock.event_id, done)
                    self._schedule(state)
                    again = state._due
                    if again > due:  # `NO_DAY` too
                        break
                    # Due again by the day being processed: it comes before every member
                    # left in the day (their ids are greater), so it goes again now.
                    buckets[again].discard(member_id)
        return done

    # -- grading ------------------------------------------------------------------------------
    def close_period(self, clock: Clock) -> list[str] | None:
        """The grading periods this clock ends, oldest first: every period from the previous
        clock's up to this clock's, so a period without a clock inside is graded too. None
        when it ends none. At the first clock the book cannot know where the history started
        in other partitions: it offers the periods its own members have volume in (perhaps
        none), and `grade_with` grades the whole range from the earliest of all parts."""
        grading = self.program.grading
        if grading is None:
            return None
        current = period_key(grading, clock.at.date())
        previous = self._grading_period
        if previous is not None and current <= previous:
            return None  # same period, or a clock behind the latest
        self._grading_period = current
        if previous is not None:
            return periods_from(grading, previous, current)
        earliest = min(
            (p for state in self.members.values() for p in state.grading_volume if p < current),
            default=None,
        )
        return [] if earliest is None else periods_from(grading, earliest, current)

    def segment_histograms(self, periods: Sequence[str]) -> GradingPart:
        """Per period and segment: how many members had each volume (mergeable), and how many
        members each segment has (their volume in any period left out is 0)."""
        grading = self.program.grading
        assert grading is not None
        histograms: dict[str, dict[str, Histogram]] = {p: {} for p in periods}
        sizes: Counter[str] = Counter()
        for state in self.members.values():
            segment = member_segment(grading, state)
            # Not `+=`: a Counter's `__missing__` is interpreted (once per member and period).
            sizes[segment] = sizes.get(segment, 0) + 1
            volumes = state.grading_volume
            for period in periods:
                per_segment = histograms[period]
                if segment not in per_segment:
                    per_segment[segment] = Counter()
                histogram = per_segment[segment]
                volume = volumes.get(period, 0)
                histogram[volume] = histogram.get(volume, 0) + 1
        return GradingPart(histograms, dict(sizes))

    def apply_grades(
        self,
        period: str,
        limits: dict[str, list[int | None]],
        ranked: set[str],
        now: datetime,
        cause: str,
    ) -> list[tuple[str, ev.DomainEvent]]:
        """Give every member the band its volume earns under the segment's thresholds."""
        grading = self.program.grading
        assert grading is not None
        out: list[tuple[str, ev.DomainEvent]] = []
        # A segment's thresholds as text once, not per member whose class changes (the
        # `repr` of a list is a generic call).
        shown = {segment: str(limit) for segment, limit in limits.items()}
        for member_id in sorted(self.members):
            state = self.members[member_id]
            segment = member_segment(grading, state)
            volume = state.grading_volume.get(period, 0)
            band = band_for(grading, limits[segment], volume, segment in ranked)
            code = class_code(segment, band)
            if code != state.class_code:
                limit_text = shown[segment]
                reason = f"{period}: volume {volume} in segment {segment}; thresholds {limit_text}"
                self._apply(
                    state,
                    [ev.ClassChanged(member_id, now, state.class_code, code, cause, reason)],
                    out,
                )
        return out

    def grade(
        self, periods: Sequence[str], now: datetime, cause: str
    ) -> list[tuple[str, ev.DomainEvent]]:
        return self.grade_with([self.segment_histograms(periods)], now, cause)

    def grade_with(
        self, parts: Sequence[GradingPart], now: datetime, cause: str
    ) -> list[tuple[str, ev.DomainEvent]]:
        """Grade every period any part offers, and the gaps between them, oldest first, on
        histograms merged from every part (each stream partition contributes its own): counts
        add up, so the thresholds are exactly those of one book over everyone."""
        grading = self.program.grading
        assert grading is not None
        offered = sorted({p for part in parts for p in part.periods})
        if not offered:
            return []
        until = next_period(grading, offered[-1])
        out: list[tuple[str, ev.DomainEvent]] = []
        for period in periods_from(grading, offered[0], until):
            histograms: dict[str, Histogram] = {}
            for part in parts:
                own = part.periods.get(period)
                if own is None:  # no volume there in this part: all its members count as 0
                    own = {segment: Counter({0: n}) for segment, n in part.sizes.items()}
                for segment, histogram in own.items():
                    histograms.setdefault(segment, Counter()).update(histogram)
            limits = {segment: thresholds(grading, h) for segment, h in histograms.items()}
            ranked = {
                s for s, h in histograms.items() if sum(h.values()) >= grading.min_segment_size
            }
            for segment in sorted(histograms):
                self.gradings.append(
                    GradingResult(period, segment, histograms[segment], limits[segment])
                )
            out += self.apply_grades(period, limits, ranked, now, cause)
        return out

    def _schedule(self, state: MemberState | None) -> None:
        if state is None:
            return
        due = next_due(state, self._hot)
        before = state._due
        if before == due:
            return
        member_id = state.member_id
        if before != NO_DAY:
            self._buckets[before].discard(member_id)  # an emptied bucket waits for its day
        state._due = due
        if due == NO_DAY:
            return
        bucket = self._buckets.get(due)
        if bucket is None:
            self._buckets[due] = {member_id}
            heapq.heappush(self._days, due)
        else:
            bucket.add(member_id)
