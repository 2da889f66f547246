"""Profiles for hosts and guests. Implements WBS-003.

Spec: TD-0021 (schema and handles), NT-0021 (public page),
TD-0022 (avatar variants), NT-0022 (guest portfolio).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# TD-0021: 3-30 characters, lowercase letters, digits and inner hyphens.
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$")
RESERVED_HANDLES = frozenset({"admin", "support", "help", "studios", "api", "www", "fansub"})
AVATAR_SIZES = (64, 192, 512)
MAX_PORTFOLIO_LINKS = 5


def normalize_handle(raw: str) -> str:
    return raw.strip().lower()


def validate_handle(raw: str, taken: set[str]) -> str:
    """Return the normalized handle or raise ValueError with a message for the form."""
    handle = normalize_handle(raw)
    if not HANDLE_RE.match(handle) or "--" in handle:
        raise ValueError("handles use 3-30 lowercase letters, digits and single hyphens")
    if handle in RESERVED_HANDLES:
        raise ValueError("that handle is reserved")
    if handle in taken:
        raise ValueError("that handle is taken")
    return handle


@dataclass
class Profile:
    user_id: str
    handle: str
    display_name: str
    role: str  # "host" or "guest"
    email: str
    phone: str | None = None
    bio: str = ""
    city: str | None = None
    avatar_key: str | None = None
    portfolio_links: list[str] = field(default_factory=list)
    verified: bool = False

    def public_view(self) -> dict:
        """NT-0021: what anyone can see. Never the email address or phone number."""
        view = {
            "handle": self.handle,
            "display_name": self.display_name,
            "role": self.role,
            "bio": self.bio,
            "city": self.city,
            "verified": self.verified,
            "avatar": avatar_variants(self.avatar_key) if self.avatar_key else None,
        }
        if self.role == "guest":
            view["portfolio"] = list(self.portfolio_links)
        return view

    def completeness(self) -> int:
        """Percentage shown in the profile nudge."""
        checks = [bool(self.bio), bool(self.city), bool(self.avatar_key), self.verified]
        return round(100 * sum(checks) / len(checks))


def add_portfolio_link(profile: Profile, url: str) -> None:
    """NT-0022: https links only, at most five, no duplicates."""
    if not url.startswith("https://"):
        raise ValueError("portfolio links must start with https://")
    if url in profile.portfolio_links:
        return
    if len(profile.portfolio_links) >= MAX_PORTFOLIO_LINKS:
        raise ValueError(f"at most {MAX_PORTFOLIO_LINKS} portfolio links")
    profile.portfolio_links.append(url)


def avatar_variants(avatar_key: str) -> dict[int, str]:
    """TD-0022: storage keys of the square variants made at upload time."""
    return {size: f"avatars/{avatar_key}/{size}.webp" for size in AVATAR_SIZES}
