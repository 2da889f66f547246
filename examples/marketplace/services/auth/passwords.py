"""Passphrase hashing and account-recovery tokens.

Implements WBS-002 (signup, login and sessions).
Spec: TD-0001 (scrypt), NT-0001 (signup rules), NT-0004 (recovery).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

# TD-0001: cost parameters. Raise SCRYPT_N when login p95 leaves room for it.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
MIN_LENGTH = 10
RECOVERY_TTL_SECONDS = 30 * 60


class WeakPassphrase(ValueError):
    """The passphrase does not meet the signup rules."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_strength(phrase: str, email: str) -> None:
    """Signup rules from NT-0001.

    At least ten characters, and not built around the local part of the email address.
    """
    if len(phrase) < MIN_LENGTH:
        raise WeakPassphrase(f"use at least {MIN_LENGTH} characters")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 3 and local in phrase.lower():
        raise WeakPassphrase("do not include your email address")


def hash_passphrase(phrase: str, salt: bytes | None = None) -> str:
    """Return a self-describing scrypt hash (TD-0001)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(phrase.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_passphrase(phrase: str, stored: str) -> bool:
    """Constant-time comparison of a passphrase with a stored hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    _, n, r, p, salt, digest = parts
    candidate = hashlib.scrypt(
        phrase.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate, _unb64(digest))


def needs_rehash(stored: str) -> bool:
    """True when a stored hash uses weaker parameters than today's (TD-0001)."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or int(parts[1]) < SCRYPT_N


def _signing_key() -> bytes:
    return os.environ["AUTH_RECOVERY_SIGNING_KEY"].encode("utf-8")


def issue_recovery_token(user_id: str, now: float | None = None, key: bytes | None = None) -> str:
    """NT-0004: a signed, expiring token sent to the account's verified address."""
    issued = int(time.time() if now is None else now)
    body = f"{user_id}.{issued}"
    sig = hmac.new(key or _signing_key(), body.encode("utf-8"), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


def redeem_recovery_token(token: str, now: float | None = None, key: bytes | None = None) -> str | None:
    """Return the user ID when the token is genuine and younger than 30 minutes."""
    try:
        user_id, issued, sig = token.rsplit(".", 2)
        issued_at = int(issued)
    except ValueError:
        return None
    expected = hmac.new(key or _signing_key(), f"{user_id}.{issued}".encode("utf-8"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64(sig)):
        return None
    current = time.time() if now is None else now
    if current - issued_at > RECOVERY_TTL_SECONDS:
        return None
    return user_id
