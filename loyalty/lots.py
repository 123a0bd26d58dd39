"""Lot arithmetic: which lots a debit draws from, and the deterministic lot ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from loyalty.state import DEBT_LOT, Lot, MemberState


def lot_id(earned_on: date, unlock_on: date, expires_on: date | None) -> str:
    expiry = expires_on.strftime("%Y%m%d") if expires_on else "never"
    return f"L{earned_on:%Y%m%d}-u{unlock_on:%Y%m%d}-x{expiry}"


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
    own = [lot for lot in state.lots if lot.lot_id == first_lot]
    return own + [lot for lot in state.lots if lot.lot_id not in (first_lot, DEBT_LOT)]
