"""Stripe webhook verification and replay protection. Implements WBS-010 (TD-0105).

The signing value comes from the STRIPE_WEBHOOK_SECRET environment variable in production.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Callable

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The Stripe-Signature header is missing, malformed, stale or wrong."""


def _signing_value() -> bytes:
    return os.environ["STRIPE_WEBHOOK_SECRET"].encode("utf-8")


def sign(payload: bytes, timestamp: int, signing_value: bytes) -> str:
    mac = hmac.new(signing_value, f"{timestamp}.".encode("utf-8") + payload, hashlib.sha256)
    return mac.hexdigest()


def verify(payload: bytes, header: str, now: int, signing_value: bytes | None = None) -> dict:
    """TD-0105: check the `t=...,v1=...` header and return the decoded event."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.partition("=")
        fields.setdefault(name.strip(), []).append(value.strip())
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in Stripe-Signature") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the 5-minute tolerance")
    expected = sign(payload, timestamp, signing_value or _signing_value())
    if not any(hmac.compare_digest(expected, v) for v in fields.get("v1", [])):
        raise SignatureError("no matching v1 signature")
    return json.loads(payload)


class WebhookProcessor:
    """Processes each event ID at most once, whatever order Stripe retries in."""

    def __init__(self, handlers: dict[str, Callable[[dict], None]]) -> None:
        self._handlers = handlers
        self._seen: set[str] = set()

    def handle(self, event: dict) -> str:
        if event["id"] in self._seen:
            return "duplicate"
        handler = self._handlers.get(event["type"])
        if handler is None:
            self._seen.add(event["id"])
            return "ignored"
        handler(event["data"]["object"])
        self._seen.add(event["id"])
        return "processed"
