"""Tests for WBS-021 smart docs: TD-0381, TD-0382, NT-0381."""
import hashlib
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.contracts.templates import AuditTrail, TemplateError, render  # noqa: E402

TEMPLATE = "Rental of {{ studio_name }} to {{guest_name}} from {{starts_at}} to {{ends_at}}."


class RenderTests(unittest.TestCase):
    # TD-0381
    def test_render(self):
        text = render(TEMPLATE, {"studio_name": "Blue Room", "guest_name": "Mara K.",
                                 "starts_at": "10:00", "ends_at": "14:00"})
        self.assertEqual(text, "Rental of Blue Room to Mara K. from 10:00 to 14:00.")

    def test_missing_and_unknown_fields(self):
        with self.assertRaises(TemplateError):
            render(TEMPLATE, {"studio_name": "Blue Room"})
        with self.assertRaises(TemplateError):
            render("{{ shoe_size }}", {"shoe_size": "42"})


class AuditTests(unittest.TestCase):
    # TD-0382 NT-0381
    def test_chain_detects_tampering(self):
        trail = AuditTrail(hashlib.sha256(b"agreement v1").hexdigest())
        trail.record("guest_1", "signed", "2026-11-24T10:00:00Z")
        trail.record("host_1", "countersigned", "2026-11-24T10:05:00Z")
        self.assertTrue(trail.verify())
        trail.events[0]["at"] = "2026-11-23T10:00:00Z"
        self.assertFalse(trail.verify())


if __name__ == "__main__":
    unittest.main()
