"""Token-bucket rate limits at the API gateway. Implements WBS-022 (TD-0345)."""
from __future__ import annotations

from dataclasses import dataclass, field

# Requests per minute and burst size per route class.
LIMITS = {"search": (600, 60), "checkout": (60, 10), "login": (20, 5), "default": (300, 30)}


@dataclass
class Bucket:
    rate_per_sec: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_sec)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Limiter:
    """TD-0345: one bucket per (client, route class)."""

    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def allow(self, client_id: str, route_class: str, now: float) -> bool:
        per_minute, burst = LIMITS.get(route_class, LIMITS["default"])
        key = (client_id, route_class)
        if key not in self.buckets:
            self.buckets[key] = Bucket(per_minute / 60.0, burst, burst, now)
        return self.buckets[key].take(now)
