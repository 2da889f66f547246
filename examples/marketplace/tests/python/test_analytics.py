"""Tests for WBS-004 analytics: TD-0301, TD-0302, NT-0302."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.analytics.events import Batcher, health_snapshot, validate  # noqa: E402


def search_event(city="berlin"):
    return {"name": "search_performed", "version": 1, "occurred_at": "2026-11-20T10:00:00Z",
            "properties": {"city": city, "result_count": 12}}


class SchemaTests(unittest.TestCase):
    # TD-0301
    def test_valid_event(self):
        self.assertEqual(validate(search_event()), [])

    def test_pii_is_rejected(self):
        event = search_event()
        event["properties"]["email"] = "someone@example.com"
        self.assertIn("forbidden property email", validate(event))


class BatcherTests(unittest.TestCase):
    # TD-0302
    def test_flush_by_size_and_age(self):
        batches = []
        batcher = Batcher(batches.append, max_size=3, max_age=10.0)
        for t in range(3):
            batcher.add(search_event(), now=t)
        self.assertEqual(len(batches), 1)
        batcher.add(search_event(), now=20)
        batcher.add(search_event(), now=31)
        self.assertEqual([len(b) for b in batches], [3, 2])


class HealthTests(unittest.TestCase):
    # NT-0302
    def test_liquidity(self):
        events = [search_event() for _ in range(4)] + [{"name": "booking_confirmed"}]
        self.assertEqual(health_snapshot(events)["liquidity"], 0.25)
        self.assertEqual(health_snapshot([])["liquidity"], 0.0)


if __name__ == "__main__":
    unittest.main()
