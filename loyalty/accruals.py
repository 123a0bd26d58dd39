"""Decisions on earning and its reversal: purchases, refunds, flights, cancellations, partner
accruals and retro-claims. Each returns domain events or raises `Rejected`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from loyalty import events as ev
from loyalty.calendar import day_of, days_before
from loyalty.crediting import credit, daily_gate, debit, earning_day, qualifying
from loyalty.earning import flight_earn, partner_earn, purchase_earn
from loyalty.holds import void_holds
from loyalty.hot import Hot
from loyalty.inputs import (
    Flight,
    FlightCancelled,
    FlightFlown,
    PartnerAccrual,
    Purchase,
    Refund,
    RetroClaim,
)
from loyalty.lots import reversal_order
from loyalty.program import Program
from loyalty.rejections import Code, Rejected
from loyalty.rounding import pro_rata
from loyalty.state import MemberState, Sale, SegmentCredit


def decide_purchase(state: MemberState, p: Purchase, program: Program) -> list[ev.DomainEvent]:
    hot = program.hot
    rule = hot.purchases
    if rule is None:
        raise Rejected(Code.NO_EARN_RULE, f"{program.name} does not earn on purchases")
    amount = hot.to_base(p.amount, p.currency)
    if amount is None:
        raise Rejected(
            Code.UNSUPPORTED_CURRENCY,
            f"{p.currency} cannot be converted to {program.base_currency}",
        )
    if p.sale_id in state.sales:
        raise Rejected(Code.DUPLICATE_SALE, f"sale {p.sale_id} was already credited")
    day = day_of(p.at)
    points, credits, promoted = purchase_earn(rule, hot, state.tier, amount, p.category, day)
    gate = daily_gate(state, program, p.event_id, p.at, points, "purchase", ref=p.sale_id)
    events: list[ev.DomainEvent] = [*gate.events]
    lot = None
    if gate.points:
        earned = credit(
            state, program, p.event_id, "earn", gate.points, p.at, "purchase", promotion=promoted
        )
        lot = earned.posting.lot_id
        events.append(earned)
    bonus = purchase_bonus(state, program.hot, day)
    if bonus:
        kind = "bonus_welcome" if state.purchases == 0 else "bonus_activation"
        events.append(credit(state, program, p.event_id, kind, bonus, p.at, "purchase"))
    events += qualifying(state, p.event_id, "earn", credits, p.at)
    forget = days_before(p.at, program.hot.refund_days)
    events.append(
        ev.SaleRecorded(
            Sale(p.sale_id, day, p.amount, p.currency, gate.points, bonus, credits, lot), forget
        )
    )
    events += [ev.PurchaseCounted(day), ev.ActivityRecorded(earning_day(state, p.at))]
    return events


def purchase_bonus(state: MemberState, hot: Hot, day: date) -> int:
    """The welcome bonus on the first purchase, the activation bonus on a second one soon
    enough after it (the programme's, from its compiled view `hot`), else 0."""
    purchases = state.purchases
    if purchases > 1:
        return 0
    if purchases == 0:
        return hot.welcome_points
    activation = hot.activation
    if (
        activation is not None
        and state.first_purchase_on is not None
        and (day - state.first_purchase_on).days <= activation[1]
    ):
        return activation[0]
    return 0


def decide_refund(state: MemberState, r: Refund, program: Program) -> list[ev.DomainEvent]:
    sale = state.sales.get(r.sale_id)
    if sale is None:
        raise Rejected(
            Code.UNKNOWN_SALE,
            f"sale {r.sale_id} is unknown or older than the "
            f"{program.windows.refund_days}-day refund window",
        )
    if r.currency is not None and r.currency != sale.currency:
        raise Rejected(Code.CURRENCY_MISMATCH, f"refund in {r.currency}, sale in {sale.currency}")
    left = sale.amount - sale.refunded
    amount = left if r.amount is None else r.amount
    if amount <= 0:
        raise Rejected(Code.INVALID_AMOUNT, f"sale {r.sale_id} is already fully refunded")
    if amount > left:
        raise Rejected(
            Code.REFUND_EXCEEDS_SALE,
            f"refund of {amount} exceeds the {left} {sale.currency} not yet refunded",
        )
    refunded = sale.refunded + amount
    # Cumulative pro rata: the total reversed so far is recomputed, so partial refunds add up
    # to exactly the points earned when the whole sale is refunded.
    points = pro_rata(sale.points, refunded, sale.amount) - sale.points_reversed
    full = refunded == sale.amount
    bonus = sale.bonus_points if full and not sale.bonus_reversed else 0
    q_back = {
        c: pro_rata(q, refunded, sale.amount) - sale.qualifying_reversed.get(c, 0)
        for c, q in sale.qualifying.items()
    }
    events: list[ev.DomainEvent] = []
    if points + bonus:
        events.append(
            debit(
                state,
                program,
                r.event_id,
                "reverse",
                points + bonus,
                r.at,
                reversal_order(state, sale.lot_id),
                allow_debt=True,
            )
        )
    events += qualifying(state, r.event_id, "reverse", q_back, r.at, sign=-1)
    events.append(
        ev.SaleRefunded(r.sale_id, amount, points, tuple(sorted(q_back.items())), bool(bonus))
    )
    if full:
        events += void_holds(state, program, r.sale_id, r.at, r.event_id, "sale refunded")
    return events


def decide_flight(state: MemberState, f: FlightFlown, program: Program) -> list[ev.DomainEvent]:
    return _segment_events(state, f.event_id, "earn", f.flight, f.at, program)


def decide_retro_claim(state: MemberState, c: RetroClaim, program: Program) -> list[ev.DomainEvent]:
    age = (c.at.date() - c.flight.flight_date).days
    if age < 0:
        raise Rejected(
            Code.RETRO_CLAIM_FUTURE_FLIGHT, f"flight date {c.flight.flight_date} is after the claim"
        )
    window = program.windows.retro_claim_days
    if age > window:
        raise Rejected(
            Code.RETRO_CLAIM_OUTSIDE_WINDOW,
            f"flight flown {age} days before the claim; claims are accepted within {window} days",
        )
    return _segment_events(state, c.event_id, "retro_claim", c.flight, c.at, program)


def _segment_events(
    state: MemberState, event_id: str, kind: str, flight: Flight, at: datetime, program: Program
) -> list[ev.DomainEvent]:
    if flight.segment_id in state.segments:
        raise Rejected(
            Code.SEGMENT_ALREADY_CREDITED, f"segment {flight.segment_id} was already credited"
        )
    points, credits, promoted = flight_earn(program, state.tier, flight)
    gate = daily_gate(state, program, event_id, at, points, "flight", ref=flight.segment_id)
    events: list[ev.DomainEvent] = [*gate.events]
    lot = None
    if gate.points:
        earned = credit(
            state, program, event_id, kind, gate.points, at, "flight", promotion=promoted
        )
        lot = earned.posting.lot_id
        events.append(earned)
    events += qualifying(state, event_id, kind, credits, at)
    forget = days_before(at, program.hot.cancellation_days)
    events.append(
        ev.SegmentRecorded(
            SegmentCredit(flight.segment_id, flight.flight_date, gate.points, credits, lot), forget
        )
    )
    events.append(ev.ActivityRecorded(earning_day(state, at)))
    return events


def decide_cancellation(
    state: MemberState, c: FlightCancelled, program: Program
) -> list[ev.DomainEvent]:
    segment = state.segments.get(c.segment_id)
    if segment is None or segment.reversed:
        raise Rejected(
            Code.SEGMENT_NOT_CREDITED, f"segment {c.segment_id} has no credit to reverse"
        )
    events: list[ev.DomainEvent] = []
    if segment.points:
        events.append(
            debit(
                state,
                program,
                c.event_id,
                "reverse",
                segment.points,
                c.at,
                reversal_order(state, segment.lot_id),
                allow_debt=True,
            )
        )
    events += qualifying(state, c.event_id, "reverse", segment.qualifying, c.at, sign=-1)
    events.append(ev.SegmentReversed(c.segment_id))
    events += void_holds(state, program, c.segment_id, c.at, c.event_id, "flight cancelled")
    return events


def decide_partner(state: MemberState, a: PartnerAccrual, program: Program) -> list[ev.DomainEvent]:
    rule = program.earn.partners.get(a.partner_id)
    if rule is None:
        raise Rejected(Code.UNKNOWN_PARTNER, f"{a.partner_id} is not a partner of {program.name}")
    amount: Decimal | None = None
    if a.amount is not None:
        amount = program.hot.to_base(a.amount, a.currency or program.base_currency)
        if amount is None:
            raise Rejected(
                Code.UNSUPPORTED_CURRENCY,
                f"{a.currency} cannot be converted to {program.base_currency}",
            )
    key = f"{a.partner_id}:{a.partner_txn_id}"
    if key in state.partner_txns:
        raise Rejected(
            Code.DUPLICATE_PARTNER_TRANSACTION,
            f"{a.partner_id} transaction {a.partner_txn_id} was already credited",
        )
    day = day_of(a.at)
    points, promoted = partner_earn(program, rule, state.tier, a.category, amount, a.points, day)
    gate = daily_gate(
        state, program, a.event_id, a.at, points, "partner", a.partner_id, rule.daily_cap
    )
    events: list[ev.DomainEvent] = [*gate.events]
    if gate.points:
        events.append(
            credit(
                state, program, a.event_id, "earn", gate.points, a.at, "partner", promotion=promoted
            )
        )
    forget = days_before(a.at, program.hot.partner_dedupe_days)
    events += [
        ev.PartnerTransactionRecorded(key, day, forget),
        ev.ActivityRecorded(earning_day(state, a.at)),
    ]
    return events
