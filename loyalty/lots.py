"""Lot arithmetic: which lots a debit draws from, and the deterministic lot ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

from loyalty.calendar import MEMO_LIMIT
from loyalty.state import DEBT_LOT, Lot, MemberState


def lot_id(earned_on: date, unlock_on: date, expires_on: date | None) -> str:
    """`L<earned>/u<unlock>/x<expiry or never>`: lots with the same dates are one lot.
    Remembered (a dict, see `loyalty.calendar.MEMO_LIMIT`): every credit asks for it."""
    # By earning day, then by (unlock, expiry): the days are the one object per day
    # (`loyalty.calendar.day_at`), so the outer lookup hashes nothing new; a day holds one or
    # two kinds of lot. A key tuple of three dates was built and hashed per call.
    by_dates = _LOT_IDS.get(earned_on)
    if by_dates is None:
        if len(_LOT_IDS) >= MEMO_LIMIT:
            _LOT_IDS.clear()
        by_dates = _LOT_IDS[earned_on] = []
    for unlock, expiry, lid in by_dates:
        # Identity first: the same day is almost always the same object.
        if (unlock is unlock_on or unlock == unlock_on) and (
            expiry is expires_on or expiry == expires_on
        ):
            return lid
    shown = expires_on.isoformat() if expires_on else "never"
    lid = f"L{earned_on.isoformat()}/u{unlock_on.isoformat()}/x{shown}"
    if len(by_dates) >= _KINDS_A_DAY:
        by_dates.clear()
    by_dates.append((unlock_on, expires_on, lid))
    return lid


_KINDS_A_DAY: Final = 16  # (unlock, expiry) pairs remembered per earning day


_LOT_IDS: Final[dict[date, list[tuple[date, date | None, str]]]] = {}


def fifo_draws(lots: Iterable[Lot], points: int) -> tuple[tuple[tuple[str, int], ...], int]:
    """Take `points` from `lots` in the given order; returns (draws, shortfall)."""
    draws: list[tuple[str, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        if lot.remaining <= 0:
            continue
        take = min(lot.remaining, left)
        draws.append((lot.lot_id, take))
        left -= take
    return tuple(draws), left


def available_lots(state: MemberState, on: date) -> list[Lot]:
    """Redeemable lots, oldest first (FIFO)."""
    return [lot for lot in state.lots if lot.unlock_on <= on and lot.remaining > 0]


def reversal_order(state: MemberState, first_lot: str | None) -> list[Lot]:
    """Where a reversal takes points from: the lot its credit went into, then every other lot
    oldest first (pending included); what is still missing becomes debt."""
    # One walk, native string comparisons: `not in (first_lot, DEBT_LOT)` was a generic
    # containment test per lot, and a refund of a busy member's walks hundreds of lots.
    own: list[Lot] = []
    rest: list[Lot] = []
    for lot in state.lots:
        lot_id = lot.lot_id
        if first_lot is not None and lot_id == first_lot:
            own.append(lot)
        elif lot_id != DEBT_LOT:
            rest.append(lot)
    own.extend(rest)
    return own


Draws = tuple[tuple[str, int], ...]


def split_draws(draws: Draws, first: int) -> tuple[Draws, Draws]:
    """Split FIFO draws into the first `first` points and the rest."""
    head: list[tuple[str, int]] = []
    tail: list[tuple[str, int]] = []
    left = first
    for lot, points in draws:
        take = min(points, left)
        if take:
            head.append((lot, take))
        if points - take:
            tail.append((lot, points - take))
        left -= take
    return tuple(head), tuple(tail)
