"""The single fold: `apply(state, event) -> state`. Replaying the same events gives the same
state; no rule is evaluated here, only recorded decisions are carried out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final

from loyalty import events as ev
from loyalty.calendar import iso_day, iso_day_before, ordinal_of
from loyalty.lifecycle import EXPLORATION, STAGE_VALUES
from loyalty.lots import lot_id
from loyalty.state import (
    DEBT_LOT,
    Lot,
    MemberState,
    Sale,
    SegmentCredit,
    activity_added,
    activity_pruned,
)


def apply(state: MemberState | None, event: ev.DomainEvent) -> MemberState:
    if isinstance(event, ev.Enrolled):
        return MemberState(
            member_id=event.member_id,
            enrolled_on=event.enrolled_on,
            tier=event.tier,
            as_of=event.at,
            attributes=event.attributes,
            earned_tier=event.tier,
            stage=STAGE_VALUES[EXPLORATION],
        )
    if state is None:
        raise ValueError(f"{type(event).__name__} for a member that does not exist")
    _HANDLERS[type(event)](state, event)
    return state


def apply_all(state: MemberState, events: list[ev.DomainEvent]) -> MemberState:
    """`apply` over a list, for an existing member (the hot path: one dispatch per event)."""
    handlers = _HANDLERS
    for event in events:
        handlers[type(event)](state, event)
    return state


def _credited(state: MemberState, event: ev.PointsCredited) -> None:
    credit_lot(state, event.posting.points, event.earned_on, event.unlock_on, event.expires_on)


# The mutations below take plain values, not domain events, so the fused accrual path
# (loyalty.fused) carries out the same bookkeeping without building the event objects.
def credit_lot(
    state: MemberState, points: int, earned_on: date, unlock_on: date, expires_on: date | None
) -> None:
    lots = state.lots
    if lots and lots[0].lot_id == DEBT_LOT:
        debt = lots[0]
        repaid = min(points, -debt.remaining)
        debt.remaining += repaid
        points -= repaid
        if debt.remaining == 0:
            del lots[0]
    if points <= 0:
        return
    lid = lot_id(earned_on, unlock_on, expires_on)
    key = (earned_on, unlock_on, lid)
    # Lots are kept oldest first; new credits almost always land at the end.
    index = len(lots)
    while index > 0:
        lot = lots[index - 1]
        if lot.lot_id == lid:
            lot.remaining += points
            return
        if lot.lot_id == DEBT_LOT or (lot.earned_on, lot.unlock_on, lot.lot_id) < key:
            break
        index -= 1
    lots.insert(index, Lot(lid, earned_on, unlock_on, expires_on, points))


def _debited(state: MemberState, event: ev.PointsDebited) -> None:
    takes = dict(event.draws)
    if takes:
        # Lot ids are unique in a member's lots, so the walk stops at the last lot drawn
        # from (FIFO draws take the oldest, first in the list), and the list is rebuilt only
        # when a lot emptied: a busy member holds hundreds of lots.
        left = sum(1 for take in takes.values() if take)
        emptied = False
        for lot in state.lots:
            if not left:
                break
            take = takes.get(lot.lot_id)
            if take:
                lot.remaining -= take
                emptied = emptied or lot.remaining == 0
                left -= 1
        if emptied:
            state.lots = [lot for lot in state.lots if lot.remaining != 0]
    if event.to_debt:
        if state.lots and state.lots[0].lot_id == DEBT_LOT:
            state.lots[0].remaining -= event.to_debt
        else:
            day = event.posting.at.date()
            state.lots.insert(0, Lot(DEBT_LOT, day, day, None, -event.to_debt))


def _qualifying(state: MemberState, event: ev.QualifyingCredited) -> None:
    add_qualifying(state, event.posting.currency, event.posting.points)


def add_qualifying(state: MemberState, currency: str, points: int) -> None:
    state.qualifying[currency] = state.qualifying.get(currency, 0) + points
    # Credit (and reversals) count towards the period in progress when they are processed.
    state.period_qualifying[currency] = state.period_qualifying.get(currency, 0) + points


def _forget_before(records: dict[str, Any], before: date, day_of: Callable[[Any], date]) -> None:
    # Records are inserted in (roughly) time order, so the stale ones sit at the front.
    while records:
        key = next(iter(records))
        if day_of(records[key]) >= before:
            break
        del records[key]


def _sale(state: MemberState, event: ev.SaleRecorded) -> None:
    record_sale(state, event.sale, event.forget_before)


def record_sale(state: MemberState, sale: Sale, forget_before: date) -> None:
    state.sales[sale.sale_id] = sale
    _forget_before(state.sales, forget_before, _sold_on)


def _sold_on(sale: Sale) -> date:
    return sale.sold_on


def _refunded(state: MemberState, event: ev.SaleRefunded) -> None:
    sale = state.sales[event.sale_id]
    sale.refunded += event.amount
    sale.points_reversed += event.points_reversed
    # A new dict, never the sale's own changed in place: it may be `NOT_REVERSED`, shared.
    reversed_ = dict(sale.qualifying_reversed)
    for currency, points in event.qualifying_reversed:
        reversed_[currency] = reversed_.get(currency, 0) + points
    sale.qualifying_reversed = reversed_
    sale.bonus_reversed = sale.bonus_reversed or event.bonus_reversed


def _segment(state: MemberState, event: ev.SegmentRecorded) -> None:
    record_segment(state, event.credit, event.forget_before)


def record_segment(state: MemberState, credit: SegmentCredit, forget_before: date) -> None:
    state.segments[credit.segment_id] = credit
    _forget_before(state.segments, forget_before, _flown_on)


def _flown_on(credit: SegmentCredit) -> date:
    return credit.flown_on


def _segment_reversed(state: MemberState, event: ev.SegmentReversed) -> None:
    state.segments[event.segment_id].reversed = True


def _partner_txn(state: MemberState, event: ev.PartnerTransactionRecorded) -> None:
    record_partner_txn(state, event.key, event.on, event.forget_before)


def record_partner_txn(state: MemberState, key: str, on: date, forget_before: date) -> None:
    state.partner_txns[key] = on
    _forget_before(state.partner_txns, forget_before, _same_day)


def _same_day(on: date) -> date:
    return on


def _daily(state: MemberState, event: ev.DailyAccrualCounted) -> None:
    count_daily(state, event.day, event.partner_id, event.points)


def count_daily(state: MemberState, on: date, partner_id: str | None, points: int) -> None:
    day = iso_day(on)
    totals = state.day_totals
    key = day + "|*"
    totals[key] = totals.get(key, 0) + points
    if partner_id is not None:
        key = f"{day}|{partner_id}"
        totals[key] = totals.get(key, 0) + points
    # Only today's and yesterday's counters can still matter.
    oldest = iso_day_before(on)
    # Every key starts with its 10-character day, so `k < oldest` is `k[:10] < oldest`
    # without slicing each key.
    for stale in [k for k in totals if k < oldest]:
        del totals[stale]


def _held(state: MemberState, event: ev.AccrualHeld) -> None:
    state.held.append(event.hold)


def _hold_settled(state: MemberState, event: ev.HoldSettled) -> None:
    settled = event.hold_id  # read once, not per hold (a busy member holds hundreds)
    state.held = [h for h in state.held if h.hold_id != settled]


def _held_credit(state: MemberState, event: ev.HeldCreditAttached) -> None:
    if event.source == "purchase":
        sale = state.sales[event.ref]
        sale.points += event.points
        sale.points_reversed += event.reversed
        sale.lot_id = sale.lot_id or event.lot_id
    else:
        segment = state.segments[event.ref]
        segment.points += event.points
        segment.lot_id = segment.lot_id or event.lot_id


def _purchase_counted(state: MemberState, event: ev.PurchaseCounted) -> None:
    count_purchase(state, event.on)


def count_purchase(state: MemberState, on: date) -> None:
    state.purchases += 1
    if state.first_purchase_on is None:
        state.first_purchase_on = on


def _activity(state: MemberState, event: ev.ActivityRecorded) -> None:
    record_activity(state, event.on, event.on.toordinal())


def record_activity(state: MemberState, on: date, day: int) -> None:
    """An activity on `on`, whose day ordinal is `day` (the caller's: compiled, `toordinal`
    is a generic method call)."""
    if state.last_activity_on is None or on > state.last_activity_on:
        state.last_activity_on = on
    days = state.activity_days
    if days and day not in days and day < next(reversed(days)):
        # Activity days arrive in order (an activity is dated on the member's current day
        # at the earliest); should one ever not, the dict is re-sorted: the window counts
        # slide over it in order (loyalty/activity.py).
        days[day] = 1
        state.activity_days = dict(sorted(days.items()))
    else:
        days[day] = days.get(day, 0) + 1
        activity_added(state, day)
    if state.oldest_activity is not None and day < state.oldest_activity:
        state.oldest_activity = day


def _transfer_sent(state: MemberState, event: ev.TransferSent) -> None:
    state.transfers_out[event.year] = state.transfers_out.get(event.year, 0) + event.points
    if event.transfer_id:
        state.in_flight[event.transfer_id] = event.points


def _transfer_dispatched(state: MemberState, event: ev.TransferDispatched) -> None:
    state.in_flight.pop(event.transfer_id, None)


def _remember(state: MemberState, event: ev.EventRecorded | ev.RejectionRecorded) -> None:
    remember(state, event.key, event.fingerprint, event.at, event.forget_before, event.sweep_every)


def remember(
    state: MemberState,
    key: str,
    fingerprint: str,
    at: datetime,
    forget_before: int,
    sweep_every: int,
) -> None:
    seen = state.seen
    day = ordinal_of(at)
    size = len(seen)
    # The entries stay in day order when they were (as the memo knows them: this dict, this
    # many entries) and this one is new and not older than the last.
    ordered = size == 0 or (
        state._seen_for is seen and state._seen_len == size and state._seen_last <= day
    )
    seen[key] = (fingerprint, day)
    ordered = ordered and len(seen) == size + 1
    last = day
    # Forget in sweeps, not per input: a member's memory is then bounded by its activity
    # within the horizon plus one sweep interval. The forgotten keys are deleted in place:
    # most are kept (7 sweeps in 8 for each), and rebuilding the dict inserted every kept key
    # again (~2,500 instructions an input, amortised; the order of the rest is unchanged
    # either way). In day order the stale entries are the first ones, and the sweep stops at
    # the first it keeps: each entry read is a tuple and an int in cold memory, and reading
    # every entry was 13% of the rulebook's last-level cache misses at 100,000 members
    # (callgrind). Out of order (a late input, a restored state), every entry is read.
    if forget_before >= state.seen_swept + sweep_every:
        stale: list[str] = []
        if ordered:
            for k, v in seen.items():
                if v[1] >= forget_before:
                    break
                stale.append(k)
        else:
            ordered = True
            last = 0
            for k, v in seen.items():
                entry_day = v[1]
                if entry_day < forget_before:
                    stale.append(k)
                else:
                    ordered = ordered and last <= entry_day
                    last = entry_day
        for k in stale:
            del seen[k]
        state.seen_swept = forget_before
    state._seen_for = seen if ordered else None
    state._seen_len = len(seen)
    state._seen_last = last


def _recorded(state: MemberState, event: ev.EventRecorded) -> None:
    record_input(
        state, event.key, event.fingerprint, event.at, event.forget_before, event.sweep_every
    )


def record_input(
    state: MemberState,
    key: str,
    fingerprint: str,
    at: datetime,
    forget_before: int,
    sweep_every: int,
) -> None:
    """An applied input: remembered (duplicates), and the member's time moves to it."""
    remember(state, key, fingerprint, at, forget_before, sweep_every)
    if at > state.as_of:
        state.as_of = at


def _rejection(state: MemberState, event: ev.RejectionRecorded) -> None:
    _remember(state, event)


def _time(state: MemberState, event: ev.TimeAdvanced) -> None:
    if event.to > state.as_of:
        state.as_of = event.to


def _period_opened(state: MemberState, event: ev.PeriodOpened) -> None:
    state.period_start, state.period_end = event.start, event.end
    state.period_qualifying = dict(event.qualifying)


def _period_closed(state: MemberState, event: ev.PeriodClosed) -> None:
    state.earned_tier = event.earned_tier
    for tier in event.periods_at:
        state.periods_at[tier] = state.periods_at.get(tier, 0) + 1
    if event.lifetime_tier is not None:
        state.lifetime_tier = event.lifetime_tier


def _earned_raised(state: MemberState, event: ev.EarnedTierRaised) -> None:
    state.earned_tier = event.tier


def _tier_changed(state: MemberState, event: ev.TierChanged) -> None:
    state.tier = event.to_tier


def _class_changed(state: MemberState, event: ev.ClassChanged) -> None:
    state.class_code = event.to_code


def _volume(state: MemberState, event: ev.VolumeCounted) -> None:
    count_volume(state, event.period, event.amount, event.keep_from)


def count_volume(state: MemberState, period: str, amount: int, keep_from: str | None) -> None:
    volumes = state.grading_volume
    volumes[period] = volumes.get(period, 0) + amount
    if keep_from is not None:  # periods not yet graded (several, if clocks were sparse) stay
        for stale in [p for p in volumes if p < keep_from]:
            del volumes[stale]


def _match_granted(state: MemberState, event: ev.MatchGranted) -> None:
    state.match = event.match
    state.last_match_on = event.at.date()


def _match_progressed(state: MemberState, event: ev.MatchProgressed) -> None:
    if state.match is not None:
        progress = state.match.progress
        for currency, amount in event.credits.items():
            progress[currency] = progress.get(currency, 0) + amount


def _match_confirmed(state: MemberState, event: ev.MatchConfirmed) -> None:
    if state.match is not None:
        state.match.confirmed_until = event.confirmed_until


def _match_over(state: MemberState, event: ev.MatchExpired | ev.MatchEnded) -> None:
    state.match = None


def _stage(state: MemberState, event: ev.StageChanged) -> None:
    state.stage = event.to_stage


def _activity_pruned(state: MemberState, event: ev.ActivityPruned) -> None:
    # The days are ascending (`record_activity` keeps them so, the codec restores them
    # sorted): the pruned ones are a prefix, and the first day kept is the new oldest. Walking
    # the prefix only, not every day, and not `min` over them afterwards: a busy member holds
    # two lifecycle windows of days, pruned at most clocks (~4% of a replay's instructions).
    days = state.activity_days
    before = event.before
    gone: list[int] = []
    oldest: int | None = None
    for day in days:
        if day >= before:
            oldest = day
            break
        gone.append(day)
    for day in gone:
        del days[day]
    state.oldest_activity = oldest
    activity_pruned(state, before)


def _rule_fired(state: MemberState, event: ev.RuleFired) -> None:
    state.rules_fired[event.rule_id] = event.at.date()


def _nothing(state: MemberState, event: Any) -> None:
    """Events for the outside world (alerts, follow-ups) leave the member as it is."""


_HANDLERS: Final[dict[type, Callable[[MemberState, Any], None]]] = {
    ev.PointsCredited: _credited,
    ev.PointsDebited: _debited,
    ev.QualifyingCredited: _qualifying,
    ev.SaleRecorded: _sale,
    ev.SaleRefunded: _refunded,
    ev.SegmentRecorded: _segment,
    ev.SegmentReversed: _segment_reversed,
    ev.PartnerTransactionRecorded: _partner_txn,
    ev.DailyAccrualCounted: _daily,
    ev.AccrualHeld: _held,
    ev.HoldSettled: _hold_settled,
    ev.HeldCreditAttached: _held_credit,
    ev.PurchaseCounted: _purchase_counted,
    ev.ActivityRecorded: _activity,
    ev.TransferSent: _transfer_sent,
    ev.TransferDispatched: _transfer_dispatched,
    ev.EventRecorded: _recorded,
    ev.RejectionRecorded: _rejection,
    ev.TimeAdvanced: _time,
    ev.PeriodOpened: _period_opened,
    ev.PeriodClosed: _period_closed,
    ev.EarnedTierRaised: _earned_raised,
    ev.TierChanged: _tier_changed,
    ev.ClassChanged: _class_changed,
    ev.VolumeCounted: _volume,
    ev.MatchGranted: _match_granted,
    ev.MatchProgressed: _match_progressed,
    ev.MatchConfirmed: _match_confirmed,
    ev.MatchExpired: _match_over,
    ev.MatchEnded: _match_over,
    ev.StageChanged: _stage,
    ev.ActivityPruned: _activity_pruned,
    ev.RuleFired: _rule_fired,
    ev.BarrierApplied: _nothing,
    ev.AlertRaised: _nothing,
    ev.PointsAdjusted: _nothing,
    ev.FollowUpIssued: _nothing,
}
