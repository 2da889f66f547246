"""Login sessions and login throttling. Implements WBS-002.

Spec: TD-0002 (tokens, rotation, revocation), TD-0004 (throttling).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

IDLE_TIMEOUT = 12 * 3600
TRUSTED_DEVICE_LIFETIME = 30 * 24 * 3600


@dataclass
class Session:
    user_id: str
    token_hash: str
    created_at: float
    last_seen: float
    trusted_device: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """In-memory store with the same contract as the Postgres-backed one (TD-0002).

    Only a hash of each token is kept, so a copy of the table cannot be replayed.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def issue(self, user_id: str, now: float, trusted_device: bool = False) -> str:
        token = secrets.token_urlsafe(32)
        digest = _hash(token)
        self._sessions[digest] = Session(user_id, digest, now, now, trusted_device)
        return token

    def lookup(self, token: str, now: float) -> Session | None:
        session = self._sessions.get(_hash(token))
        if session is None:
            return None
        limit = TRUSTED_DEVICE_LIFETIME if session.trusted_device else IDLE_TIMEOUT
        if now - session.last_seen > limit:
            del self._sessions[session.token_hash]
            return None
        session.last_seen = now
        return session

    def rotate(self, token: str, now: float) -> str | None:
        """Swap a valid token for a fresh one, e.g. after a role change (TD-0002)."""
        session = self.lookup(token, now)
        if session is None:
            return None
        del self._sessions[session.token_hash]
        return self.issue(session.user_id, now, session.trusted_device)

    def revoke_all(self, user_id: str) -> int:
        """Sign a user out everywhere, e.g. after a passphrase change. Returns the count."""
        doomed = [h for h, s in self._sessions.items() if s.user_id == user_id]
        for digest in doomed:
            del self._sessions[digest]
        return len(doomed)


class LoginThrottle:
    """TD-0004: five failures within 15 minutes lock the account for 15 minutes."""

    MAX_FAILURES = 5
    WINDOW = 15 * 60
    LOCKOUT = 15 * 60

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    def is_locked(self, account: str, now: float) -> bool:
        return self._locked_until.get(account, 0.0) > now

    def record_failure(self, account: str, now: float) -> bool:
        """Record a failed attempt; returns True when the account is now locked."""
        recent = [t for t in self._failures.get(account, []) if now - t < self.WINDOW]
        recent.append(now)
        self._failures[account] = recent
        if len(recent) >= self.MAX_FAILURES:
            self._locked_until[account] = now + self.LOCKOUT
            self._failures[account] = []
            return True
        return False

    def record_success(self, account: str) -> None:
        self._failures.pop(account, None)
        self._locked_until.pop(account, None)
