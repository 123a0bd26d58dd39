"""Business rejections: a machine-readable code and a human message; state is left unchanged.

Rules are `check_*`-style guards that raise `Rejected`; the book turns it into a rejection record.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    UNKNOWN_MEMBER = "unknown_member"
    ALREADY_ENROLLED = "already_enrolled"
    EVENT_ID_CONFLICT = "event_id_conflict"
    COMMAND_ID_CONFLICT = "command_id_conflict"
    TOO_LATE = "too_late"  # older than the duplicate horizon: cannot be told from a redelivery
    UNSUPPORTED_CURRENCY = "unsupported_currency"
    NO_EARN_RULE = "no_earn_rule"
    DUPLICATE_SALE = "duplicate_sale"
    UNKNOWN_SALE = "unknown_sale"
    REFUND_EXCEEDS_SALE = "refund_exceeds_sale"
    CURRENCY_MISMATCH = "currency_mismatch"
    CARRIER_NOT_PARTNERED = "carrier_not_partnered"
    SEGMENT_ALREADY_CREDITED = "segment_already_credited"
    SEGMENT_NOT_CREDITED = "segment_not_credited"
    UNKNOWN_PARTNER = "unknown_partner"
    DUPLICATE_PARTNER_TRANSACTION = "duplicate_partner_transaction"
    INVALID_AMOUNT = "invalid_amount"
    INSUFFICIENT_POINTS = "insufficient_points"
    TRANSFERS_DISABLED = "transfers_disabled"
    TRANSFER_TO_SELF = "transfer_to_self"
    TRANSFER_UNDER_TENURE = "transfer_under_tenure"
    TRANSFER_BELOW_MINIMUM = "transfer_below_minimum"
    TRANSFER_OVER_CAP = "transfer_over_cap"
    TRANSFER_OVER_YEARLY_CAP = "transfer_over_yearly_cap"
    TRANSFER_RESTRICTED = "transfer_restricted"
    STATUS_MATCH_UNAVAILABLE = "status_match_unavailable"
    UNKNOWN_COMPETITOR = "unknown_competitor"
    UNKNOWN_COMPETITOR_TIER = "unknown_competitor_tier"
    ALREADY_AT_TIER = "already_at_tier"
    MATCH_TOO_RECENT = "match_too_recent"
    RETRO_CLAIM_OUTSIDE_WINDOW = "retro_claim_outside_window"
    RETRO_CLAIM_FUTURE_FLIGHT = "retro_claim_future_flight"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_HOLD = "unknown_hold"
    INVALID_DECISION = "invalid_decision"
    OPERATOR_REQUIRED = "operator_required"
    UNDECODABLE = "undecodable"


class Rejected(Exception):
    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
