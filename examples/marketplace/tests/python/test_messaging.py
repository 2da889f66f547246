"""Tests for WBS-012 messaging: TD-0141, TD-0142, NT-0141."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.messaging.inbox import Inbox  # noqa: E402
from services.messaging.redaction import MASK, redact_contact_details  # noqa: E402


class RedactionTests(unittest.TestCase):
    # TD-0142
    def test_masks_contact_details(self):
        text = "Call me on +49 151 2345 6789 or mail mara@example.com, see www.example.com/rooms"
        self.assertEqual(redact_contact_details(text).count(MASK), 3)

    def test_keeps_times_and_prices(self):
        text = "Can we do 10:00-14:00 on the 24th for 180 EUR?"
        self.assertEqual(redact_contact_details(text), text)


class InboxTests(unittest.TestCase):
    # TD-0141 NT-0141
    def test_one_thread_per_pair_and_listing(self):
        inbox = Inbox()
        a = inbox.thread_for("g1", "h1", "lst_1")
        self.assertIs(a, inbox.thread_for("g1", "h1", "lst_1"))
        self.assertIsNot(a, inbox.thread_for("g1", "h1", "lst_2"))

    def test_redaction_lifts_after_confirmation(self):
        inbox = Inbox()
        thread = inbox.thread_for("g1", "h1", "lst_1")
        self.assertIn(MASK, inbox.post(thread, "g1", "text me: 0151 234 5678", now=1).body)
        thread.booking_ids.append("bk_1")
        inbox.confirmed_bookings.add("bk_1")
        self.assertNotIn(MASK, inbox.post(thread, "h1", "sure, 0151 234 5678", now=2).body)
        self.assertEqual(inbox.unread_count("g1"), 1)
        with self.assertRaises(PermissionError):
            inbox.post(thread, "someone-else", "hi", now=3)


if __name__ == "__main__":
    unittest.main()
