"""Payout scheduling for hosts. Implements WBS-011.

Spec: TD-0122 (scheduling job), NT-0121 (paid 24 hours after the session),
TD-0124 (holds for new hosts and open disputes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RELEASE_DELAY = timedelta(hours=24)
NEW_HOST_HOLD = timedelta(days=7)
NEW_HOST_PAYOUTS = 3
BANK_CHANGE_PAUSE = timedelta(hours=72)


@dataclass(frozen=True)
class PayoutContext:
    session_end: datetime
    completed_payouts: int
    dispute_open: bool = False
    bank_changed_at: datetime | None = None


def release_time(ctx: PayoutContext) -> datetime | None:
    """NT-0121 TD-0124: when the payout may leave; None while a dispute is open."""
    if ctx.dispute_open:
        return None
    release = ctx.session_end + RELEASE_DELAY
    if ctx.completed_payouts < NEW_HOST_PAYOUTS:
        release = max(release, ctx.session_end + NEW_HOST_HOLD)
    if ctx.bank_changed_at is not None:
        release = max(release, ctx.bank_changed_at + BANK_CHANGE_PAUSE)
    return release


def due_payouts(contexts: dict[str, PayoutContext], now: datetime) -> list[str]:
    """TD-0122: booking IDs whose payout is due at `now`, oldest first."""
    due = []
    for booking_id, ctx in contexts.items():
        release = release_time(ctx)
        if release is not None and release <= now:
            due.append((release, booking_id))
    return [booking_id for _, booking_id in sorted(due)]
