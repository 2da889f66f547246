"""Stripe gateway for booking payments. Implements WBS-010.

Spec: TD-0101 (service boundaries), TD-0103 (PaymentIntents), TD-0102 (idempotency),
TD-0106 (minor units), NT-0101 (cards and wallets).

Only this module talks to Stripe. The API key is read from the STRIPE_API_KEY environment
variable at call time; it is never logged and never returned to callers.
Run `python3 -m services.payments.stripe_gateway --dry-run` for an offline smoke check.
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Protocol

API_BASE = "https://api.stripe.com/v1"
STRIPE_VERSION = "2024-06-20"
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP"})


class Transport(Protocol):
    def __call__(self, method: str, url: str, form: dict[str, str], headers: dict[str, str]) -> dict: ...


def to_minor_units(amount: Decimal | str, currency: str) -> int:
    """TD-0106: 12.50 EUR -> 1250; 1200 JPY -> 1200."""
    value = Decimal(str(amount))
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def idempotency_key(booking_id: str, operation: str, attempt: int) -> str:
    """TD-0102: the same booking, operation and attempt always give the same key."""
    digest = hashlib.sha256(f"{booking_id}:{operation}:{attempt}".encode("utf-8")).hexdigest()
    return f"bk-{digest[:32]}"


@dataclass(frozen=True)
class IntentResult:
    intent_id: str
    status: str
    amount_minor: int
    currency: str


def _env_credentials() -> str:
    return os.environ["STRIPE_API_KEY"]


class StripeGateway:
    """Thin client over the Stripe REST API (TD-0103). All I/O goes through `transport`."""

    def __init__(self, transport: Transport, credentials: Callable[[], str] = _env_credentials) -> None:
        self._transport = transport
        self._credentials = credentials

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + self._credentials(),
            "Idempotency-Key": key,
            "Stripe-Version": STRIPE_VERSION,
        }

    def create_payment_intent(
        self, booking_id: str, amount_minor: int, currency: str, manual_capture: bool, attempt: int = 1
    ) -> IntentResult:
        """TD-0103 NT-0101: one PaymentIntent per booking attempt.

        Automatic payment methods let Stripe offer cards, Apple Pay and Google Pay.
        Request-to-book bookings use manual capture and are captured when the host accepts.
        """
        if amount_minor <= 0:
            raise ValueError("amount must be positive")
        form = {
            "amount": str(amount_minor),
            "currency": currency.lower(),
            "automatic_payment_methods[enabled]": "true",
            "capture_method": "manual" if manual_capture else "automatic",
            "metadata[booking_id]": booking_id,
        }
        key = idempotency_key(booking_id, "create_intent", attempt)
        body = self._transport("POST", f"{API_BASE}/payment_intents", form, self._headers(key))
        return IntentResult(body["id"], body["status"], int(body["amount"]), body["currency"])

    def capture(self, booking_id: str, intent_id: str, attempt: int = 1) -> str:
        key = idempotency_key(booking_id, "capture", attempt)
        body = self._transport("POST", f"{API_BASE}/payment_intents/{intent_id}/capture", {}, self._headers(key))
        return body["status"]

    def refund(self, booking_id: str, intent_id: str, amount_minor: int, attempt: int = 1) -> str:
        key = idempotency_key(booking_id, f"refund:{amount_minor}", attempt)
        form = {"payment_intent": intent_id, "amount": str(amount_minor)}
        body = self._transport("POST", f"{API_BASE}/refunds", form, self._headers(key))
        return body["id"]


def _dry_run() -> int:
    seen = []

    def transport(method, url, form, headers):
        seen.append((method, url, headers["Idempotency-Key"]))
        return {"id": "pi_dry_run", "status": "requires_payment_method", "amount": form.get("amount", "0"),
                "currency": form.get("currency", "eur")}

    gateway = StripeGateway(transport, credentials=lambda: "dry-run-placeholder")
    result = gateway.create_payment_intent("bk_dry", to_minor_units("45.00", "EUR"), "EUR", manual_capture=False)
    again = gateway.create_payment_intent("bk_dry", 4500, "EUR", manual_capture=False)
    ok = result.amount_minor == 4500 and seen[0][2] == seen[1][2]
    print("stripe gateway dry run:", "ok" if ok else "FAILED", seen[0][0], seen[0][1])
    return 0 if ok and again.intent_id == result.intent_id else 1


if __name__ == "__main__" and "--dry-run" in sys.argv:
    sys.exit(_dry_run())
