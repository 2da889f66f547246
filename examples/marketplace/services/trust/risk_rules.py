"""Fraud risk rules for new bookings. Implements WBS-015.

Spec: TD-0201 (risk rules), TD-0202 (card attempt velocity).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class BookingSignals:
    account_age_hours: float
    amount_eur: float
    card_attempts_last_hour: int
    country_mismatch: bool
    prior_completed_bookings: int


@dataclass(frozen=True)
class Rule:
    name: str
    points: int
    applies: Callable[[BookingSignals], bool]


# TD-0201: additive points; the thresholds below decide.
RULES = (
    Rule("new_account_large_amount", 60, lambda s: s.account_age_hours < 1 and s.amount_eur > 500),
    Rule("card_velocity", 50, lambda s: s.card_attempts_last_hour >= 4),  # TD-0202
    Rule("country_mismatch", 20, lambda s: s.country_mismatch),
    Rule("first_booking", 10, lambda s: s.prior_completed_bookings == 0),
)
REVIEW_AT = 50
BLOCK_AT = 100


def evaluate(signals: BookingSignals) -> tuple[str, list[str]]:
    """Return ("allow" | "review" | "block", names of the rules that fired)."""
    fired = [rule for rule in RULES if rule.applies(signals)]
    score = sum(rule.points for rule in fired)
    decision = "block" if score >= BLOCK_AT else "review" if score >= REVIEW_AT else "allow"
    return decision, [rule.name for rule in fired]
