"""Experiment assignment and exposure logging. Implements WBS-018.

Spec: TD-0321 (deterministic assignment), TD-0322 (exposure logging).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

BUCKETS = 10_000


def bucket(experiment_key: str, user_id: str) -> int:
    """TD-0321: a stable bucket in [0, 10000) from the experiment key and user ID."""
    digest = hashlib.sha256(f"{experiment_key}:{user_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment_key: str, user_id: str, variants: list[tuple[str, int]]) -> str:
    """Pick a variant; weights are in basis points and must add up to 10000."""
    if sum(weight for _, weight in variants) != BUCKETS:
        raise ValueError("variant weights must add up to 10000")
    point = bucket(experiment_key, user_id)
    for name, weight in variants:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable")


@dataclass
class ExposureLog:
    """TD-0322: log once per user and experiment, when the variant renders."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def expose(self, experiment_key: str, user_id: str, variant: str) -> bool:
        if (experiment_key, user_id) in self._seen:
            return False
        self._seen.add((experiment_key, user_id))
        self.entries.append((experiment_key, user_id, variant))
        return True
