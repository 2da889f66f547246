"""Smart docs: rental agreements from templates, with a signature audit trail. Implements WBS-021.

Spec: NT-0381 (agreement signed at checkout), TD-0381 (merge fields),
TD-0382 (e-signature audit trail).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

FIELD = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
SUPPORTED_FIELDS = frozenset({"studio_name", "guest_name", "host_name", "starts_at", "ends_at",
                              "price", "house_rules", "booking_reference"})


class TemplateError(ValueError):
    pass


def render(template: str, values: dict[str, str]) -> str:
    """TD-0381: replace {{field}} placeholders; unknown or missing fields are errors."""
    names = set(FIELD.findall(template))
    unknown = names - SUPPORTED_FIELDS
    if unknown:
        raise TemplateError(f"unsupported fields: {', '.join(sorted(unknown))}")
    missing = names - values.keys()
    if missing:
        raise TemplateError(f"missing values: {', '.join(sorted(missing))}")
    return FIELD.sub(lambda m: values[m.group(1)], template)


@dataclass
class AuditTrail:
    """TD-0382 NT-0381: a hash chain of signature events for one document."""

    document_sha256: str
    events: list[dict] = field(default_factory=list)

    def record(self, signer_id: str, action: str, at: str) -> dict:
        previous = self.events[-1]["hash"] if self.events else self.document_sha256
        event = {"signer": signer_id, "action": action, "at": at, "prev": previous}
        event["hash"] = hashlib.sha256(json.dumps(event, sort_keys=True).encode("utf-8")).hexdigest()
        self.events.append(event)
        return event

    def verify(self) -> bool:
        previous = self.document_sha256
        for event in self.events:
            body = {k: v for k, v in event.items() if k != "hash"}
            if body["prev"] != previous:
                return False
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
            if digest != event["hash"]:
                return False
            previous = event["hash"]
        return True
