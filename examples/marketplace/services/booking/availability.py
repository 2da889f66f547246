"""Availability and slot holds. Implements WBS-009.

Spec: TD-0082 (availability from hours, bookings and buffers), TD-0081 (15-minute holds).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

HOLD_SECONDS = 15 * 60
DEFAULT_BUFFER = timedelta(minutes=30)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end

    def widened(self, by: timedelta) -> "Interval":
        return Interval(self.start - by, self.end + by)


def open_slots(
    opens: datetime,
    closes: datetime,
    busy: list[Interval],
    length: timedelta,
    buffer: timedelta = DEFAULT_BUFFER,
    step: timedelta = timedelta(hours=1),
) -> list[Interval]:
    """TD-0082: bookable slots of `length` inside opening hours.

    A slot is free when it does not overlap any busy interval widened by the studio's buffer.
    Busy intervals come from confirmed bookings, holds and synced external calendars.
    """
    slots = []
    cursor = opens
    while cursor + length <= closes:
        candidate = Interval(cursor, cursor + length)
        if not any(candidate.overlaps(b.widened(buffer)) for b in busy):
            slots.append(candidate)
        cursor += step
    return slots


class HoldBook:
    """TD-0081: a slot is held for 15 minutes while the guest pays."""

    def __init__(self) -> None:
        self._holds: dict[tuple[str, Interval], tuple[str, float]] = {}

    def place(self, listing_id: str, slot: Interval, booking_id: str, now: float) -> bool:
        self.release_expired(now)
        for (other_listing, other_slot), _ in self._holds.items():
            if other_listing == listing_id and other_slot.overlaps(slot):
                return False
        self._holds[(listing_id, slot)] = (booking_id, now + HOLD_SECONDS)
        return True

    def release_expired(self, now: float) -> int:
        expired = [k for k, (_, until) in self._holds.items() if until <= now]
        for key in expired:
            del self._holds[key]
        return len(expired)

    def holder(self, listing_id: str, slot: Interval, now: float) -> str | None:
        self.release_expired(now)
        entry = self._holds.get((listing_id, slot))
        return entry[0] if entry else None
