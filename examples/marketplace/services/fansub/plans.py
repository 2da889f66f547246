"""FanSub tiers and entitlements (scaffold). Implements WBS-020.

Spec: NT-0361 (fans subscribe to a studio), TD-0361 (Stripe Billing),
TD-0362 (entitlements).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    tier_id: str
    studio_id: str
    name: str
    monthly_minor: int
    currency: str
    perks: tuple[str, ...]
    rank: int  # higher ranks include the perks of lower ones


def price_payload(tier: Tier) -> dict[str, str]:
    """TD-0361: form fields for a recurring Stripe Price; sent by the payments service."""
    return {
        "unit_amount": str(tier.monthly_minor),
        "currency": tier.currency.lower(),
        "recurring[interval]": "month",
        "product_data[name]": f"{tier.name} ({tier.studio_id})",
        "metadata[tier_id]": tier.tier_id,
    }


def can_view(post_min_rank: int, active_tier: Tier | None) -> bool:
    """TD-0362: a post is visible to subscribers at or above its minimum tier."""
    return active_tier is not None and active_tier.rank >= post_min_rank
