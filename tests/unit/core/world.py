"""A small test world around one `Book`: factories with keyword defaults for every input."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from edge.program_file import parse_program
from loyalty import events as ev
from loyalty import inputs as i
from loyalty.book import Book, Outcome
from loyalty.program import Program
from loyalty.state import MemberState, Posting

START = datetime(2026, 1, 1, tzinfo=UTC)

TEST_PROGRAM = """
name: test
base_currency: EUR
tiers: [base, silver, gold]
currencies: {points: points, qualifying: [q_miles, q_segments, q_spend]}
fx_rates: {USD: "0.5"}
earn:
  purchases:
    points_per_unit: {base: 1, silver: 2, gold: 3}
    category_multipliers: {fresh: 2, tobacco: 0}
    min_amount: 1
    min_points: 0
    max_points: 1000
    qualifying_per_unit: {q_spend: 1}
  flights:
    qualifying_miles: q_miles
    qualifying_segments: q_segments
    qualifying_spend: q_spend
    carriers:
      SK: {method: revenue, points_per_unit: {base: 5, silver: 7, gold: 8}}
      PA:
        method: distance
        fare_class_multipliers: {F: 3, Y: 1, Q: "0.5"}
        default_fare_class_multiplier: "0.25"
        cabin_bonus: {business: "0.25"}
        minimum_per_segment: 500
  partners:
    hotel: {points_per_unit: 2, daily_cap: 1000, category_multipliers: {suite: 3}}
    card: {points_per_unit: 1}
  promotions:
    - id: flights-x2
      starts_on: 2026-03-01
      ends_on: 2026-03-31
      multiplier: 2
      applies_to: [flight]
    - id: fresh-x3
      starts_on: 2026-03-01
      ends_on: 2026-03-31
      multiplier: 3
      applies_to: [purchase]
      categories: [fresh]
    - {id: all-x2, starts_on: 2026-03-01, ends_on: 2026-03-31, multiplier: 2}
  welcome_bonus: {points: 100}
  activation_bonus: {points: 200, within_days: 30}
pending: {days: 10, applies_to: [purchase]}
expiry: {policy: never}
transfers:
  min_tenure_days: 30
  min_points: 100
  max_per_transfer: 5000
  max_per_year: 8000
  fee_percent: 10
  fee_minimum: 50
velocity: {member_daily_points: 20000, partner_daily_points: 5000}
windows: {retro_claim_days: 180, refund_days: 365, cancellation_days: 365}
"""


def make_program(**changes: Any) -> Program:
    program = parse_program(TEST_PROGRAM, "test.yaml")
    return replace(program, **changes) if changes else program


def at(day: float, hour: int = 12) -> datetime:
    return START + timedelta(days=day, hours=hour)


class World:
    def __init__(self, program: Program | None = None) -> None:
        self.program = program or make_program()
        self.book = Book(self.program)
        self.ids = itertools.count(1)
        self.outcomes: list[Outcome] = []

    def _id(self, prefix: str = "e") -> str:
        return f"{prefix}{next(self.ids)}"

    def send(self, inp: i.Input) -> Outcome:
        outcome = self.book.handle(inp)
        self.outcomes.append(outcome)
        return outcome

    def state(self, member: str = "M1") -> MemberState:
        return self.book.members[member]

    # -- inputs ------------------------------------------------------------------------------
    def enrol(self, member: str = "M1", day: float = 0, **attrs: str) -> Outcome:
        return self.send(
            i.Enrol(self._id(), member, at(day), at(day).date(), tuple(sorted(attrs.items())))
        )

    def purchase(
        self,
        amount: str | Decimal = "100",
        member: str = "M1",
        day: float = 1,
        category: str = "food",
        currency: str = "EUR",
        sale_id: str | None = None,
        event_id: str | None = None,
    ) -> Outcome:
        return self.send(
            i.Purchase(
                event_id or self._id(),
                member,
                at(day),
                "shop",
                category,
                Decimal(amount),
                currency,
                sale_id or self._id("s"),
            )
        )

    def refund(
        self,
        sale_id: str,
        amount: str | None = None,
        member: str = "M1",
        day: float = 2,
        currency: str | None = None,
    ) -> Outcome:
        return self.send(
            i.Refund(
                self._id(),
                member,
                at(day),
                sale_id,
                None if amount is None else Decimal(amount),
                currency,
            )
        )

    @staticmethod
    def flight(
        carrier: str = "SK",
        distance: int = 1000,
        fare_class: str = "Y",
        cabin: str = "economy",
        base: str = "200",
        surcharges: str = "50",
        taxes: str = "80",
        currency: str = "EUR",
        flown: date | None = None,
        ref: str = "ABC123",
    ) -> i.Flight:
        return i.Flight(
            ref,
            carrier,
            "101",
            "CPH",
            "LHR",
            flown or at(1).date(),
            distance,
            fare_class,
            cabin,
            Decimal(base),
            Decimal(surcharges),
            Decimal(taxes),
            currency,
        )

    def fly(self, flight: i.Flight | None = None, member: str = "M1", day: float = 1) -> Outcome:
        return self.send(i.FlightFlown(self._id(), member, at(day), flight or self.flight()))

    def cancel(self, segment_id: str, member: str = "M1", day: float = 2) -> Outcome:
        return self.send(i.FlightCancelled(self._id(), member, at(day), segment_id))

    def partner(
        self,
        partner: str = "hotel",
        amount: str | None = "100",
        points: int | None = None,
        member: str = "M1",
        day: float = 1,
        category: str = "stay",
        txn: str | None = None,
    ) -> Outcome:
        return self.send(
            i.PartnerAccrual(
                self._id(),
                member,
                at(day),
                partner,
                txn or self._id("t"),
                category,
                None if amount is None or points is not None else Decimal(amount),
                None if points is not None else "EUR",
                points,
            )
        )

    def redeem(self, points: int, member: str = "M1", day: float = 20) -> Outcome:
        return self.send(i.Redeem(self._id(), member, at(day), points, "seat"))

    def transfer(self, points: int, to: str = "M2", member: str = "M1", day: float = 40) -> Outcome:
        return self.send(i.TransferPoints(self._id(), member, at(day), to, points))

    def adjust(
        self,
        points: int,
        reason: str = "goodwill",
        operator: str = "agent-1",
        member: str = "M1",
        day: float = 1,
    ) -> Outcome:
        return self.send(i.ManualAdjustment(self._id(), member, at(day), points, reason, operator))

    def retro(self, flight: i.Flight, member: str = "M1", day: float = 30) -> Outcome:
        return self.send(i.RetroClaim(self._id(), member, at(day), flight))

    def clock(self, day: float, hour: int = 0, settle: bool = True) -> Outcome:
        return self.send(i.Clock(self._id("c"), at(day, hour), settle))


def postings(outcome: Outcome, deep: bool = True) -> list[Posting]:
    found = [e.posting for _, e in outcome.events if type(e) in ev.POSTING_EVENTS]  # type: ignore[attr-defined]
    if deep:
        for follow_up in outcome.follow_ups:
            found += postings(follow_up)
    return found


def points_postings(outcome: Outcome, currency: str = "points") -> list[tuple[str, int]]:
    return [(p.kind, p.points) for p in postings(outcome) if p.currency == currency]


def alerts(outcome: Outcome) -> list[str]:
    return [e.code for _, e in outcome.events if isinstance(e, ev.AlertRaised)]


def rejected(outcome: Outcome) -> str | None:
    return None if outcome.rejection is None else str(outcome.rejection.code)
