"""Refunds and partial refunds. Implements WBS-010 (TD-0104)."""
from __future__ import annotations

from dataclasses import dataclass, field

from services.payments.stripe_gateway import StripeGateway


@dataclass
class RefundLedger:
    """Tracks what was already refunded per booking so a refund never exceeds the charge."""

    charged: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)

    def refundable(self, booking_id: str) -> int:
        return self.charged.get(booking_id, 0) - self.refunded.get(booking_id, 0)


def partial_amount(total_minor: int, share: float) -> int:
    """TD-0104: partial refunds round down to the minor unit; never above the total."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    return min(total_minor, int(total_minor * share))


class RefundService:
    def __init__(self, gateway: StripeGateway, ledger: RefundLedger) -> None:
        self._gateway = gateway
        self._ledger = ledger

    def refund(self, booking_id: str, intent_id: str, amount_minor: int, attempt: int = 1) -> str:
        # The refund is created against the booking's original PaymentIntent (see TD-0130).
        if amount_minor <= 0:
            raise ValueError("refund amount must be positive")
        if amount_minor > self._ledger.refundable(booking_id):
            raise ValueError("refund exceeds what is left on the charge")
        refund_id = self._gateway.refund(booking_id, intent_id, amount_minor, attempt)
        self._ledger.refunded[booking_id] = self._ledger.refunded.get(booking_id, 0) + amount_minor
        return refund_id
