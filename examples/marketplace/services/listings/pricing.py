"""Hourly pricing with peak multipliers and day-rate caps. Implements WBS-005.

Spec: TD-0062 (price calculation), NT-0063 (hourly and day rates).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PEAK_START_HOUR = 18
MAX_MULTIPLIER = 2.0
DAY_RATE_HOURS = 8


@dataclass(frozen=True)
class RateCard:
    hourly_minor: int
    day_rate_minor: int | None = None
    peak_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.peak_multiplier <= MAX_MULTIPLIER:
            raise ValueError("peak multiplier must be between 1.0 and 2.0")


def is_peak(hour_start: datetime) -> bool:
    """Evenings from 18:00 and all of Saturday and Sunday are peak hours."""
    return hour_start.weekday() >= 5 or hour_start.hour >= PEAK_START_HOUR


def quote(card: RateCard, start: datetime, end: datetime) -> int:
    """TD-0062: price of a booking in minor units.

    Bookings are whole hours. From eight hours on, the day rate caps the total
    (NT-0063).
    """
    hours = (end - start) / timedelta(hours=1)
    if hours <= 0 or hours != int(hours):
        raise ValueError("bookings are whole hours")
    total = 0
    for i in range(int(hours)):
        hour_start = start + timedelta(hours=i)
        rate = card.hourly_minor * (card.peak_multiplier if is_peak(hour_start) else 1.0)
        total += round(rate)
    if card.day_rate_minor is not None and hours >= DAY_RATE_HOURS:
        total = min(total, card.day_rate_minor)
    return total
