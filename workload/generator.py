"""`loyalty generate`: a deterministic workload, streamed line by line.

Memory is O(members) plus small bounded buffers, never O(events), so 10M-event files are fine.
Activity is Pareto-distributed over members (a few heavy members carry most of the volume);
members enrol the first time they appear; a clock event opens every new day.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

import orjson

from loyalty.program import Program
from workload.network import itinerary

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = 420
MARKETS = ("SE", "DK", "NO", "FI", "DE", "UK")
FORMATS = ("convenience", "supermarket", "kiosk", "forecourt")
AREAS = ("north", "south", "east", "west")
CATEGORIES = ("food", "fresh", "travel", "dining", "fuel", "electronics", "fashion", "tobacco")
DEFAULT_PARTNERS = ("hotel-co", "car-co", "card-co")
DEFAULT_CARRIERS = ("SK", "SK", "SK", "PA", "OC")
# Kinds that carry the client's command_id.
COMMANDS = frozenset({"redeem", "transfer_points", "manual_adjustment", "hold_decision"})

# Share of the non-enrolment traffic per kind (normalised below).
MIX: dict[str, float] = {
    "purchase": 40,
    "flight_flown": 18,
    "partner_accrual": 12,
    "refund": 5,
    "redeem": 6,
    "transfer_points": 2,
    "flight_cancelled": 1.5,
    "retro_claim": 1.5,
    "manual_adjustment": 1,
    "status_match_request": 0.3,
    "windfall": 0.15,  # a partner accrual above the velocity limits: held for review
    "hold_decision": 0.15,  # an operator releases or rejects a held accrual
    "invalid": 2.5,
    "duplicate": 1,
    "conflict": 0.1,
    "malformed": 0.1,
}


class Workload:
    def __init__(
        self,
        members: int,
        events: int,
        seed: int,
        program: Program | None = None,
        mix: dict[str, float] | None = None,
    ):
        """`mix` overrides shares of `MIX` (e.g. more duplicates for a benchmark)."""
        if members < 1 or events < 1:
            raise ValueError("members and events must be >= 1")
        self.rng = random.Random(seed)
        self.members = members
        self.events = events
        self.program = program
        self.has_flights = program is None or program.earn.flights is not None
        self.carriers = (
            tuple(program.earn.flights.carriers)
            if program and program.earn.flights
            else DEFAULT_CARRIERS
        )
        self.partners = tuple(program.earn.partners) if program else DEFAULT_PARTNERS
        self.uncapped = (
            tuple(p for p, rule in program.earn.partners.items() if rule.daily_cap is None)
            if program
            else ("car-co",)
        )
        self.holds: deque[tuple[int, str]] = deque(maxlen=1_000)  # (member, hold id)
        self.currency = program.base_currency if program else "EUR"
        weights = [self.rng.paretovariate(1.16) for _ in range(members)]
        self.cumulative = array("d", accumulate(weights))
        self.enrolled_on = array("i", [-1]) * members  # day index, -1 = not enrolled
        self.balance = array("q", [0]) * members  # rough estimate, to make redemptions plausible
        self.sales: deque[tuple[int, str, Decimal]] = deque(maxlen=20_000)
        self.flights: deque[tuple[int, dict[str, Any]]] = deque(maxlen=20_000)
        self.recent: deque[bytes] = deque(maxlen=2_000)
        shares = {**MIX, **(mix or {})}
        unknown = set(shares) - set(MIX)
        if unknown:
            raise ValueError(f"unknown kinds in mix: {sorted(unknown)}")
        kinds = [
            k
            for k in shares
            if self.has_flights or k not in ("flight_flown", "flight_cancelled", "retro_claim")
        ]
        self.kinds = kinds
        self.kind_cumulative = list(accumulate(shares[k] for k in kinds))
        self.counter = 0
        self.now = START

    # -- helpers ---------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:09d}"

    def _member(self) -> int:
        pick = self.rng.random() * self.cumulative[-1]
        return min(bisect.bisect_left(self.cumulative, pick), self.members - 1)

    @staticmethod
    def _name(index: int) -> str:
        return f"M{index:07d}"

    def _day(self) -> int:
        return (self.now - START).days

    def _event(self, kind: str, member: int | None, **fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {"event_id": self._id("e"), "type": kind}
        if kind in COMMANDS:
            # The client's own id; derived, so the random stream (and every other event) stays.
            event["command_id"] = "c" + event["event_id"]
        if member is not None:
            event["member_id"] = self._name(member)
        event["occurred_at"] = self.now.isoformat()
        event.update(fields)
        return event

    # -- the stream ------------------------------------------------------------------------
    def lines(self) -> Iterator[bytes]:
        step = SPAN_DAYS * 86_400 / self.events
        day = -1
        written = 0
        while written < self.events:
            self.now += timedelta(seconds=self.rng.expovariate(1 / step))
            if self._day() != day:
                day = self._day()
                yield self._line(self._event("clock", None))
                written += 1
                continue
            for line in self._next():
                yield line
                written += 1
                if written >= self.events:
                    break

    def _line(self, event: dict[str, Any]) -> bytes:
        line = orjson.dumps(event, default=str) + b"\n"
        self.recent.append(line)
        return line

    def _next(self) -> Iterator[bytes]:
        kind = self.kinds[
            bisect.bisect_left(self.kind_cumulative, self.rng.random() * self.kind_cumulative[-1])
        ]
        if kind == "duplicate" and self.recent:
            yield self.rng.choice(self.recent)  # an upstream retry: byte-identical
            return
        if kind == "malformed":
            yield self.rng.choice(
                [
                    b'{"event_id": "broken", "type": "purchase"\n',
                    b"not json at all\n",
                    b'{"type": "teleport"}\n',
                    b'{"event_id": "x", "type": "redeem", "points": "lots"}\n',
                ]
            )
            return
        if kind == "conflict" and self.recent:
            try:
                event = orjson.loads(self.rng.choice(self.recent))
            except orjson.JSONDecodeError:
                return
            if isinstance(event, dict) and event.get("type") == "purchase":
                event["amount"] = str(Decimal(event["amount"]) + 1)
                yield orjson.dumps(event) + b"\n"  # same event id, different payload
            return
        if kind == "invalid":
            yield self._line(self._invalid())
            return
        member = self._member()
        if self.enrolled_on[member] < 0:
            self.enrolled_on[member] = self._day()
            yield self._line(self._enrolment(member))
        maker = getattr(self, f"_{kind}", None)
        if maker is not None:
            event = maker(member)
            if event is not None:
                yield self._line(event)

    def _enrolment(self, member: int) -> dict[str, Any]:
        rng = self.rng
        segment = (
            {"home_market": rng.choice(MARKETS)}
            if self.has_flights
            else {"format": rng.choice(FORMATS), "area": rng.choice(AREAS)}
        )
        return self._event(
            "member_enrolled", member, enrolled_on=self.now.date().isoformat(), segment=segment
        )

    def _money(self, low: int, high: int) -> Decimal:
        # Log-uniform-ish basket sizes: many small tickets, a few large ones.
        value = Decimal(round(low * (high / low) ** self.rng.random(), 2))
        return value.quantize(Decimal("0.01"))

    def _purchase(self, member: int) -> dict[str, Any]:
        amount = self._money(3, 900)
        sale_id = self._id("s")
        self.sales.append((member, sale_id, amount))
        self.balance[member] += int(amount)
        return self._event(
            "purchase",
            member,
            merchant=self.rng.choice(("m-north", "m-city", "m-web", "m-air")),
            category=self.rng.choice(CATEGORIES),
            amount=str(amount),
            currency=self.currency,
            sale_id=sale_id,
        )

    def _refund(self, member: int) -> dict[str, Any] | None:
        if not self.sales:
            return None
        owner, sale_id, amount = self.sales[self.rng.randrange(len(self.sales))]
        partial = self.rng.random() < 0.4
        fields: dict[str, Any] = {"sale_id": sale_id}
        if partial:
            fields["amount"] = str(
                (amount * Decimal(self.rng.randint(10, 60)) / 100).quantize(Decimal("0.01"))
                or Decimal("0.01")
            )
            fields["currency"] = self.currency
        return self._event("refund", owner, **fields)

    def _segment(self) -> dict[str, Any]:
        trip = itinerary(self.rng)
        flown = self.now.date() - timedelta(days=self.rng.randint(0, 2))
        currency = self.rng.choices((self.currency, "USD", "SEK"), (85, 10, 5))[0]
        return {
            "booking_ref": self._id("B")[-6:],
            "carrier": self.rng.choice(self.carriers),
            "flight_number": str(self.rng.randint(1, 9999)),
            "origin": trip.origin,
            "destination": trip.destination,
            "flight_date": flown.isoformat(),
            "distance_miles": trip.distance,
            "fare_class": trip.fare_class,
            "cabin": trip.cabin,
            "base_fare": str(trip.base_fare),
            "carrier_surcharges": str(trip.surcharges),
            "taxes": str(trip.taxes),
            "currency": currency,
        }

    def _flight_flown(self, member: int) -> dict[str, Any]:
        segment = self._segment()
        self.flights.append((member, segment))
        self.balance[member] += int(Decimal(segment["base_fare"])) * 5
        return self._event("flight_flown", member, **segment)

    def _flight_cancelled(self, member: int) -> dict[str, Any] | None:
        if not self.flights:
            return None
        owner, seg = self.flights[self.rng.randrange(len(self.flights))]
        keys = ("booking_ref", "carrier", "flight_number", "origin", "destination", "flight_date")
        return self._event("flight_cancelled", owner, **{k: seg[k] for k in keys})

    def _retro_claim(self, member: int) -> dict[str, Any]:
        segment = self._segment()
        late = self.rng.random() < 0.2  # some claims come after the window closed
        days_back = self.rng.randint(200, 400) if late else self.rng.randint(3, 150)
        segment["flight_date"] = (self.now.date() - timedelta(days=days_back)).isoformat()
        return self._event("retro_claim", member, flight=segment)

    def _partner_accrual(self, member: int) -> dict[str, Any]:
        partner = self.rng.choice(self.partners)
        category = self.rng.choice(("hotel", "car", "premium", "card", "dining"))
        fields: dict[str, Any] = {
            "partner_id": partner,
            "partner_txn_id": self._id("t"),
            "category": category,
        }
        if self.rng.random() < 0.3:
            fields["points"] = self.rng.randint(50, 3000)
        else:
            fields["amount"] = str(self._money(10, 1500))
            fields["currency"] = self.currency
        self.balance[member] += 500
        return self._event("partner_accrual", member, **fields)

    def _windfall(self, member: int) -> dict[str, Any] | None:
        if not self.uncapped:
            return None
        event = self._event(
            "partner_accrual",
            member,
            partner_id=self.rng.choice(self.uncapped),
            partner_txn_id=self._id("t"),
            category="windfall",
            points=self.rng.randint(300_000, 900_000),
        )
        self.holds.append((member, f"{event['event_id']}/hold"))
        return event

    def _hold_decision(self, member: int) -> dict[str, Any] | None:
        if not self.holds:
            return None
        owner, hold_id = self.holds.popleft()
        return self._event(
            "hold_decision",
            owner,
            hold_id=hold_id,
            decision=self.rng.choice(("release", "reject")),
            reason=self.rng.choice(("verified with the partner", "suspected fraud")),
            operator_id="agent-" + str(self.rng.randint(1, 40)),
        )

    def _redeem(self, member: int) -> dict[str, Any] | None:
        estimate = self.balance[member]
        if estimate < 200:
            return None
        points = self.rng.randint(100, max(101, estimate // 2))
        self.balance[member] -= points
        return self._event(
            "redeem",
            member,
            points=points,
            reward=self.rng.choice(("award-seat", "upgrade", "voucher", "gift")),
        )

    def _transfer_points(self, member: int) -> dict[str, Any] | None:
        if self.balance[member] < 2000 or self._day() - self.enrolled_on[member] < 100:
            return None
        to = self._member()
        if to == member:
            return None
        if self.enrolled_on[to] < 0 and self.rng.random() < 0.9:
            return None  # mostly to existing members; the rest bounce back
        points = self.rng.randint(500, min(20_000, self.balance[member] // 2))
        self.balance[member] -= points
        return self._event("transfer_points", member, to_member_id=self._name(to), points=points)

    def _manual_adjustment(self, member: int) -> dict[str, Any]:
        reason = (
            ""
            if self.rng.random() < 0.1
            else self.rng.choice(
                ("goodwill: delayed flight", "missing partner credit", "correction of case 4711")
            )
        )
        return self._event(
            "manual_adjustment",
            member,
            points=self.rng.randint(100, 5000),
            reason=reason,
            operator_id="agent-" + str(self.rng.randint(1, 40)),
        )

    def _status_match_request(self, member: int) -> dict[str, Any]:
        return self._event(
            "status_match_request",
            member,
            competitor=self.rng.choice(("oceanic", "northwind")),
            competitor_tier=self.rng.choice(("gold", "platinum")),
            evidence_ref=self._id("ev"),
        )

    def _invalid(self) -> dict[str, Any]:
        """Well-formed events the business rules must reject."""
        choice = self.rng.randrange(6)
        member = self._member()
        if self.enrolled_on[member] < 0 or choice == 0:
            ghost = self.members + self.rng.randrange(1000)
            return self._event(
                "purchase",
                ghost,
                merchant="m-city",
                category="food",
                amount="12.00",
                currency=self.currency,
                sale_id=self._id("s"),
            )
        if choice == 1:
            return self._event("refund", member, sale_id=self._id("nosale"))
        if choice == 2 and self.sales:
            owner, sale_id, amount = self.sales[-1]
            return self._event(
                "refund", owner, sale_id=sale_id, amount=str(amount * 3), currency=self.currency
            )
        if choice == 3:
            return self._event("redeem", member, points=50_000_000, reward="award-seat")
        if choice == 4:
            return self._event(
                "transfer_points", member, to_member_id=self._name(0), points=900_000
            )
        return self._event(
            "partner_accrual",
            member,
            partner_id="unknown-partner",
            partner_txn_id=self._id("t"),
            category="hotel",
            points=100,
        )


def settling_only_every(lines: Iterator[bytes], nth: int) -> Iterator[bytes]:
    """The same lines with only every `nth` clock settling transfers (`"settle": false` on
    the others), as a scheduler with `--settle-every` above `--every` publishes them."""
    clocks = 0
    for line in lines:
        if b'"type":"clock"' in line:
            clocks += 1
            if clocks % nth:
                line = orjson.dumps({**orjson.loads(line), "settle": False}) + b"\n"
        yield line
