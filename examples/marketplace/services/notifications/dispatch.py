"""Notification dispatch with channel fallback. Implements WBS-013.

Spec: TD-0221 (dispatch and fallback), NT-0221 (booking confirmation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

CHANNEL_ORDER = ("push", "sms", "email")


@dataclass
class Preferences:
    channels: set[str] = field(default_factory=lambda: {"push", "sms", "email"})
    quiet_hours: tuple[int, int] | None = (22, 8)  # local hours, start inclusive

    def is_quiet(self, local_hour: int) -> bool:
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        return local_hour >= start or local_hour < end if start > end else start <= local_hour < end


class Dispatcher:
    """TD-0221: try push, then SMS, then email; email is the last resort."""

    def __init__(self, senders: dict[str, Callable[[str, str], bool]]) -> None:
        self._senders = senders

    def send(self, user_id: str, text: str, prefs: Preferences, local_hour: int) -> str | None:
        for channel in CHANNEL_ORDER:
            if channel not in prefs.channels and channel != "email":
                continue
            if channel == "sms" and prefs.is_quiet(local_hour):
                continue
            sender = self._senders.get(channel)
            if sender is not None and sender(user_id, text):
                return channel
        return None


def booking_confirmation_text(reference: str, studio: str, starts: str) -> str:
    """NT-0221: every message carries the booking reference code."""
    return f"Booking {reference} confirmed: {studio}, {starts}. Reply in the app to reach your host."
