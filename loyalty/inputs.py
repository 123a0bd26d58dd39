"""What the core is asked to handle: facts from upstream and member commands, as plain data.

The wire models in `schemas.events` are translated into these at the edge. `at` is the event's
`occurred_at` in UTC; it is the only notion of time the core has.

Inputs are never mutated; they are slotted, not frozen, dataclasses for construction speed
(see `loyalty.events`). The frequent ones write their `__init__` out: compiled, a generated one
stays interpreted (mypyc/mypyc#817), and every line decoded builds one (see `Posting.__init__`
in loyalty/state.py; `__reduce__` for copies and pickles, loyalty/rebuild.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from loyalty.calendar import iso_day
from loyalty.rebuild import rebuilt


@dataclass(slots=True, init=False)
class Enrol:
    event_id: str
    member_id: str
    at: datetime
    enrolled_on: date
    attributes: tuple[tuple[str, str], ...] = ()  # segment attributes, sorted by name

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        enrolled_on: date,
        attributes: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.enrolled_on = enrolled_on
        self.attributes = attributes

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class Purchase:
    event_id: str
    member_id: str
    at: datetime
    merchant: str
    category: str
    amount: Decimal
    currency: str
    sale_id: str

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        merchant: str,
        category: str,
        amount: Decimal,
        currency: str,
        sale_id: str,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.merchant = merchant
        self.category = category
        self.amount = amount
        self.currency = currency
        self.sale_id = sale_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class Refund:
    event_id: str
    member_id: str
    at: datetime
    sale_id: str
    amount: Decimal | None  # None: the whole remaining amount
    currency: str | None

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        sale_id: str,
        amount: Decimal | None,
        currency: str | None,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.sale_id = sale_id
        self.amount = amount
        self.currency = currency

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
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

    def __init__(  # written out (see `Posting.__init__`)
        self,
        booking_ref: str,
        carrier: str,
        flight_number: str,
        origin: str,
        destination: str,
        flight_date: date,
        distance_miles: int,
        fare_class: str,
        cabin: str,
        base_fare: Decimal,
        carrier_surcharges: Decimal,
        taxes: Decimal,
        currency: str,
    ) -> None:
        self.booking_ref = booking_ref
        self.carrier = carrier
        self.flight_number = flight_number
        self.origin = origin
        self.destination = destination
        self.flight_date = flight_date
        self.distance_miles = distance_miles
        self.fare_class = fare_class
        self.cabin = cabin
        self.base_fare = base_fare
        self.carrier_surcharges = carrier_surcharges
        self.taxes = taxes
        self.currency = currency

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class FlightFlown:
    event_id: str
    member_id: str
    at: datetime
    flight: Flight

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        flight: Flight,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.flight = flight

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class FlightCancelled:
    event_id: str
    member_id: str
    at: datetime
    segment_id: str

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        segment_id: str,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.segment_id = segment_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
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

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        partner_id: str,
        partner_txn_id: str,
        category: str,
        amount: Decimal | None,
        currency: str | None,
        points: int | None,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.partner_id = partner_id
        self.partner_txn_id = partner_txn_id
        self.category = category
        self.amount = amount
        self.currency = currency
        self.points = points

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class Redeem:
    event_id: str
    member_id: str
    at: datetime
    points: int
    reward: str
    command_id: str = ""  # the client's id: a retry is a duplicate (loyalty.identity)

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        points: int,
        reward: str,
        command_id: str = "",
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.points = points
        self.reward = reward
        self.command_id = command_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class TransferPoints:
    event_id: str
    member_id: str  # the sender
    at: datetime
    to_member_id: str
    points: int
    command_id: str = ""

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        to_member_id: str,
        points: int,
        command_id: str = "",
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.to_member_id = to_member_id
        self.points = points
        self.command_id = command_id

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


@dataclass(slots=True, init=False)
class TransferReceived:
    """Internal follow-up of an accepted transfer, addressed to the recipient."""

    event_id: str
    member_id: str  # the recipient
    at: datetime
    from_member_id: str
    transfer_id: str
    points: int
    fee: int

    def __init__(  # written out (see `Posting.__init__`)
        self,
        event_id: str,
        member_id: str,
        at: datetime,
        from_member_id: str,
        transfer_id: str,
        points: int,
        fee: int,
    ) -> None:
        self.event_id = event_id
        self.member_id = member_id
        self.at = at
        self.from_member_id = from_member_id
        self.transfer_id = transfer_id
        self.points = points
        self.fee = fee

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # see loyalty/rebuild.py
        return rebuilt(self)


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
