"""Analytics events: tracking plan, batching and marketplace health. Implements WBS-004.

Spec: TD-0301 (event schema), TD-0302 (batched ingestion), NT-0302 (health metrics).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

# Properties that must never reach the warehouse.
FORBIDDEN_PROPERTIES = frozenset({"email", "phone", "message_text", "card_number"})


@dataclass(frozen=True)
class EventSpec:
    name: str
    version: int
    required: tuple[str, ...]


# TD-0301: the tracking plan; bump the version when a required property changes.
TRACKING_PLAN = {
    spec.name: spec
    for spec in (
        EventSpec("search_performed", 1, ("city", "result_count")),
        EventSpec("listing_viewed", 1, ("listing_id",)),
        EventSpec("booking_requested", 1, ("listing_id", "booking_id")),
        EventSpec("booking_confirmed", 2, ("listing_id", "booking_id", "amount_minor", "currency")),
    )
}


def validate(event: dict) -> list[str]:
    """Return a list of problems; an empty list means the event may be sent."""
    problems = []
    spec = TRACKING_PLAN.get(event.get("name", ""))
    if spec is None:
        return [f"unknown event {event.get('name')!r}"]
    if event.get("version") != spec.version:
        problems.append(f"{spec.name} is version {spec.version}")
    props = event.get("properties", {})
    problems += [f"missing property {p}" for p in spec.required if p not in props]
    problems += [f"forbidden property {p}" for p in sorted(FORBIDDEN_PROPERTIES & set(props))]
    if "occurred_at" not in event:
        problems.append("missing occurred_at")
    return problems


class Batcher:
    """TD-0302: buffer events and flush by size or age (10 s)."""

    def __init__(self, sink: Callable[[list[dict]], None], max_size: int = 50, max_age: float = 10.0):
        self._sink = sink
        self._max_size = max_size
        self._max_age = max_age
        self._buffer: list[dict] = []
        self._opened_at: float | None = None

    def add(self, event: dict, now: float) -> None:
        if validate(event):
            return  # invalid events are dropped here and counted by the client
        if self._opened_at is None:
            self._opened_at = now
        self._buffer.append(event)
        if len(self._buffer) >= self._max_size or now - self._opened_at >= self._max_age:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._sink(self._buffer)
        self._buffer = []
        self._opened_at = None


def health_snapshot(events: Iterable[dict]) -> dict:
    """NT-0302: searches, views, bookings and liquidity for the founder report."""
    counts = {"search_performed": 0, "listing_viewed": 0, "booking_confirmed": 0}
    for event in events:
        if event.get("name") in counts:
            counts[event["name"]] += 1
    searches = counts["search_performed"]
    liquidity = counts["booking_confirmed"] / searches if searches else 0.0
    return {
        "searches": searches,
        "views": counts["listing_viewed"],
        "bookings": counts["booking_confirmed"],
        "liquidity": round(liquidity, 4),
    }
