"""Checkout state machine for studio bookings. Implements WBS-009.

Spec: TD-0083 (state machine), NT-0082 (three-step checkout),
NT-0081 (instant book vs request to book), NT-0084 and TD-0084
(cancellation refunds).

Run `python3 -m services.booking.checkout --smoke` from the workspace root for a smoke check.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

# NT-0082
STEPS = ("time_and_addons", "details", "payment")


class State(str, Enum):
    QUOTED = "quoted"
    HELD = "held"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# TD-0083: every allowed move; anything else is a bug and raises.
TRANSITIONS = {
    State.QUOTED: {State.HELD},
    State.HELD: {State.CONFIRMED, State.REQUESTED, State.EXPIRED},
    State.REQUESTED: {State.CONFIRMED, State.DECLINED, State.EXPIRED},
    State.CONFIRMED: {State.CANCELLED},
    State.DECLINED: set(),
    State.EXPIRED: set(),
    State.CANCELLED: set(),
}

# TD-0084: (hours before the session, share refunded), checked top-down.
REFUND_TIERS = {
    "flexible": [(48, 1.0), (0, 0.5)],
    "moderate": [(120, 1.0), (48, 0.5), (0, 0.0)],
    "strict": [(336, 0.5), (0, 0.0)],
}


class PaymentPort(Protocol):
    def authorize(self, booking_id: str, amount_minor: int, currency: str, capture: bool) -> str: ...
    def refund(self, payment_ref: str, amount_minor: int) -> None: ...


@dataclass
class Booking:
    booking_id: str
    listing_id: str
    amount_minor: int
    currency: str
    starts_at: datetime
    instant: bool
    policy: str = "moderate"
    state: State = State.QUOTED
    payment_ref: str | None = None
    history: list[str] = field(default_factory=list)

    def move(self, target: State) -> None:
        if target not in TRANSITIONS[self.state]:
            raise ValueError(f"{self.booking_id}: {self.state.value} -> {target.value} is not allowed")
        self.history.append(f"{self.state.value}->{target.value}")
        self.state = target


def refund_for(policy: str, amount_minor: int, hours_before: float) -> int:
    """NT-0084: the refund a guest gets when cancelling `hours_before` the session."""
    for threshold, share in REFUND_TIERS[policy]:
        if hours_before >= threshold:
            return int(amount_minor * share)
    return 0


class Checkout:
    def __init__(self, payments: PaymentPort) -> None:
        self._payments = payments

    def hold(self, booking: Booking) -> None:
        booking.move(State.HELD)

    def pay(self, booking: Booking) -> None:
        """NT-0081: instant book captures now; request to book only authorizes."""
        booking.payment_ref = self._payments.authorize(
            booking.booking_id, booking.amount_minor, booking.currency, capture=booking.instant
        )
        booking.move(State.CONFIRMED if booking.instant else State.REQUESTED)

    def host_decision(self, booking: Booking, accept: bool) -> None:
        booking.move(State.CONFIRMED if accept else State.DECLINED)

    def cancel(self, booking: Booking, now: datetime) -> int:
        hours_before = (booking.starts_at - now).total_seconds() / 3600
        refund = refund_for(booking.policy, booking.amount_minor, hours_before)
        booking.move(State.CANCELLED)
        if refund and booking.payment_ref:
            self._payments.refund(booking.payment_ref, refund)
        return refund


class _RecordingPayments:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def authorize(self, booking_id, amount_minor, currency, capture):
        self.calls.append(("authorize", booking_id, amount_minor, currency, capture))
        return f"pay_{booking_id}"

    def refund(self, payment_ref, amount_minor):
        self.calls.append(("refund", payment_ref, amount_minor))


def _smoke() -> int:
    payments = _RecordingPayments()
    checkout = Checkout(payments)
    booking = Booking("bk_smoke", "lst_00001", 9000, "EUR", datetime(2026, 12, 1, 10), instant=True)
    checkout.hold(booking)
    checkout.pay(booking)
    refund = checkout.cancel(booking, now=datetime(2026, 11, 20, 10))
    ok = booking.state is State.CANCELLED and refund == 9000 and len(payments.calls) == 2
    print("checkout smoke:", "ok" if ok else "FAILED", booking.history)
    return 0 if ok else 1


if __name__ == "__main__" and "--smoke" in sys.argv:
    sys.exit(_smoke())
