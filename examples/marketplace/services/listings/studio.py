"""Studio listings: lifecycle, drafts and publish rules. Implements WBS-005.

Spec: TD-0061 (data model and states), NT-0061 (fast listing creation),
TD-0063 (publish validation), NT-0062 (photo rules), NT-0064 (house rules).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum

_ids = itertools.count(1)

# NT-0064: hours before the session until which the guest gets a full refund.
CANCELLATION_POLICIES = {"flexible": 48, "moderate": 120, "strict": 336}
MIN_PHOTOS = 3


class ListingState(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    ARCHIVED = "archived"


# TD-0061: allowed lifecycle transitions.
ALLOWED_TRANSITIONS = {
    ListingState.DRAFT: {ListingState.PUBLISHED, ListingState.ARCHIVED},
    ListingState.PUBLISHED: {ListingState.PAUSED, ListingState.ARCHIVED},
    ListingState.PAUSED: {ListingState.PUBLISHED, ListingState.ARCHIVED},
    ListingState.ARCHIVED: set(),
}


@dataclass
class Listing:
    listing_id: str
    host_id: str
    title: str
    city: str
    address: str = ""
    hourly_rate_minor: int = 0
    currency: str = "EUR"
    photos: list[str] = field(default_factory=list)
    house_rules: list[str] = field(default_factory=list)
    cancellation_policy: str = "moderate"
    rooms: int = 1
    state: ListingState = ListingState.DRAFT


def create_draft(host_id: str, title: str, city: str) -> Listing:
    """NT-0061: the first screen asks only for a title and a city."""
    return Listing(listing_id=f"lst_{next(_ids):05d}", host_id=host_id, title=title.strip(), city=city)


def publish_problems(listing: Listing) -> list[str]:
    """TD-0063: everything that blocks publishing, in the order the form shows it."""
    problems = []
    if len(listing.title) < 8:
        problems.append("title needs at least 8 characters")
    if not listing.address:
        problems.append("address is missing")
    if listing.hourly_rate_minor <= 0:
        problems.append("set an hourly rate")
    # NT-0062: three photos minimum, so guests can judge the room.
    if len(listing.photos) < MIN_PHOTOS:
        problems.append(f"add at least {MIN_PHOTOS} photos")
    if listing.cancellation_policy not in CANCELLATION_POLICIES:
        problems.append("choose a cancellation policy")
    return problems


def transition(listing: Listing, target: ListingState) -> None:
    if target not in ALLOWED_TRANSITIONS[listing.state]:
        raise ValueError(f"cannot move a {listing.state.value} listing to {target.value}")
    if target is ListingState.PUBLISHED:
        problems = publish_problems(listing)
        if problems:
            raise ValueError("; ".join(problems))
    listing.state = target


def public_address(listing: Listing, booking_confirmed: bool) -> str:
    """The exact address only after a confirmed booking; otherwise the city."""
    return listing.address if booking_confirmed else listing.city
