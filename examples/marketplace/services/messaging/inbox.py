"""Guest-host inbox. Implements WBS-012.

Spec: TD-0141 (threads and messages), NT-0141 (inbox with booking context),
NT-0142 (questions before booking).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.messaging.redaction import redact_contact_details


@dataclass
class Message:
    sender_id: str
    body: str
    sent_at: float


@dataclass
class Thread:
    """TD-0141: one thread per (guest, host, listing); bookings attach to it."""

    guest_id: str
    host_id: str
    listing_id: str
    booking_ids: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    read_up_to: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.guest_id, self.host_id, self.listing_id)

    def has_confirmed_booking(self, confirmed: set[str]) -> bool:
        return any(b in confirmed for b in self.booking_ids)


class Inbox:
    def __init__(self) -> None:
        self._threads: dict[tuple[str, str, str], Thread] = {}
        self.confirmed_bookings: set[str] = set()

    def thread_for(self, guest_id: str, host_id: str, listing_id: str) -> Thread:
        """NT-0142: guests may open a thread before they book."""
        key = (guest_id, host_id, listing_id)
        if key not in self._threads:
            self._threads[key] = Thread(guest_id, host_id, listing_id)
        return self._threads[key]

    def post(self, thread: Thread, sender_id: str, body: str, now: float) -> Message:
        if sender_id not in (thread.guest_id, thread.host_id):
            raise PermissionError("only the guest and the host can post in a thread")
        if not thread.has_confirmed_booking(self.confirmed_bookings):
            body = redact_contact_details(body)
        message = Message(sender_id, body, now)
        thread.messages.append(message)
        thread.read_up_to[sender_id] = len(thread.messages)
        return message

    def unread_count(self, user_id: str) -> int:
        """NT-0141: the badge on the inbox tab."""
        total = 0
        for thread in self._threads.values():
            if user_id in (thread.guest_id, thread.host_id):
                total += len(thread.messages) - thread.read_up_to.get(user_id, 0)
        return total
