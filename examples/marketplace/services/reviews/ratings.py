"""Reviews: double-blind reveal and smoothed ratings. Implements WBS-014.

Spec: TD-0181 (double-blind reveal), TD-0182 (Bayesian smoothing).
"""
from __future__ import annotations

from dataclasses import dataclass

REVIEW_WINDOW_DAYS = 14
PRIOR_MEAN = 4.3
PRIOR_WEIGHT = 5


def smoothed_rating(ratings: list[int]) -> float:
    """TD-0182: pull small samples toward the marketplace mean."""
    total = PRIOR_MEAN * PRIOR_WEIGHT + sum(ratings)
    return round(total / (PRIOR_WEIGHT + len(ratings)), 2)


@dataclass
class ReviewPair:
    """The guest's and the host's review of one booking."""

    guest_submitted: bool = False
    host_submitted: bool = False

    def visible(self, days_since_session: float) -> bool:
        """TD-0181: both reviews show once both are in, or when the window closes."""
        both_in = self.guest_submitted and self.host_submitted
        return both_in or days_since_session >= REVIEW_WINDOW_DAYS
