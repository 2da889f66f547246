"""Contact-detail redaction before a booking is confirmed. Implements WBS-012 (TD-0142)."""
from __future__ import annotations

import re

MASK = "[hidden until booking]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# Seven or more digits, allowing spaces, dots, dashes and brackets between them.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")


def redact_contact_details(text: str) -> str:
    """TD-0142: mask emails, links and phone numbers; keep times and prices readable."""
    text = _EMAIL.sub(MASK, text)
    text = _URL.sub(MASK, text)
    return _PHONE.sub(MASK, text)
