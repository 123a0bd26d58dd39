"""What the core is asked to handle: facts from upstream and member commands, as plain data.

The wire models in `schemas.events` are translated into these at the edge. `at` is the event's
`occurred_at` in UTC; it is the only notion of time the core has.

Inputs are never mutated; they are slotted, not frozen, dataclasses for construction speed
(see `loyalty.events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from loyalty.calendar import iso_day


@dataclass(slots=True)
class Enrol:
    event_id: str
    member_id: str
    at: datetime
    enrolled_on: date
    attributes: tuple[tuple[str, str], ...] = ()  # segment attributes, sorted by name


@dataclass(slots=True)
class Purchase:
    event_id: str
    member_id: str
    at: datetime
    merchant: str
    category: str
    amount: Decimal
    currency: str
    sale_id: str


@dataclass(slots=True)
class Refund:
    event_id: str
    member_id: str
    at: datetime
    sale_id: str
    amount: Decimal | None  # None: the whole remaining amount
    currency: str | None


@dataclass(slots=True)
class Flight:
    """One flown segment, as the booking/departure-control system reports it."""

    booking_ref: str
    carrier: str
    flight_number: str
    origin: str
    destination: str
    flight_date: date
    distance_miles: int
    fare_class: str
    cabin: str
    base_fare: Decimal
    carrier_surcharges: Decimal
    taxes: Decimal  # reported, never earns
    currency: str

    @property
    def segment_id(self) -> str:
        # The day's text remembered (`iso_day`): `isoformat()` from compiled code is a generic
        # method call formatting through sprintf, and a flight asks for its segment id twice.
        return (
            f"{self.booking_ref}:{self.carrier}{self.flight_number}:"
            f"{iso_day(self.flight_date)}:{self.origin}-{self.destination}"
        )


@dataclass(slots=True)
class FlightFlown:
    event_id: str
    member_id: str
    at: datetime
    flight: Flight


@dataclass(slots=True)
class FlightCancelled:
    event_id: str
    member_id: str
    at: datetime
    segment_id: str


@dataclass(slots=True)
class PartnerAccrual:
    event_id: str
    member_id: str
    at: datetime
    partner_id: str
    partner_txn_id: str
    category: str
    amount: Decimal | None
    currency: str | None
    points: int | None


@dataclass(slots=True)
class Redeem:
    event_id: str
    member_id: str
    at: datetime
    points: int
    reward: str
    command_id: str = ""  # the client's id: a retry is a duplicate (loyalty.identity)


@dataclass(slots=True)
class TransferPoints:
    event_id: str
    member_id: str  # the sender
    at: datetime
    to_member_id: str
    points: int
    command_id: str = ""


@dataclass(slots=True)
class TransferReceived:
    """Internal follow-up of an accepted transfer, addressed to the recipient."""

    event_id: str
    member_id: str  # the recipient
    at: datetime
    from_member_id: str
    transfer_id: str
    points: int
    fee: int


@dataclass(slots=True)
class TransferReturned:
    """Internal follow-up when the recipient cannot take the points: back to the sender."""

    event_id: str
    member_id: str  # the original sender
    at: datetime
    transfer_id: str
    points: int  # points + fee: the sender gets back everything the transfer took
    reason: str


@dataclass(slots=True)
class StatusMatchRequest:
    event_id: str
    member_id: str
    at: datetime
    competitor: str
    competitor_tier: str
    evidence_ref: str


@dataclass(slots=True)
class RetroClaim:
    event_id: str
    member_id: str
    at: datetime
    flight: Flight


@dataclass(slots=True)
class ManualAdjustment:
    event_id: str
    member_id: str
    at: datetime
    points: int  # signed
    reason: str
    operator_id: str
    command_id: str = ""


@dataclass(slots=True)
class DecideHold:
    """An operator releases (credits) or rejects an accrual held by the velocity limits."""

    event_id: str
    member_id: str
    at: datetime
    hold_id: str
    decision: str  # "release" | "reject"
    reason: str
    operator_id: str
    command_id: str = ""


@dataclass(slots=True)
class Clock:
    """Event time reaches `at` for every member. A clock that `settle`s is also the point at
    which transfers between members settle, so every stream partition must reach it together
    (a barrier); one that does not only lets time pass, member by member, unless it ends a
    grading period (which needs every member's volume)."""

    event_id: str
    at: datetime
    settle: bool = True


MemberInput = (
    Enrol
    | Purchase
    | Refund
    | FlightFlown
    | FlightCancelled
    | PartnerAccrual
    | Redeem
    | TransferPoints
    | TransferReceived
    | TransferReturned
    | StatusMatchRequest
    | RetroClaim
    | ManualAdjustment
    | DecideHold
)
Input = MemberInput | Clock
