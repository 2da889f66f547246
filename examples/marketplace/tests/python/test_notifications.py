"""Tests for WBS-013 notifications: TD-0221, NT-0221."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.notifications.dispatch import Dispatcher, Preferences, booking_confirmation_text  # noqa: E402


class DispatchTests(unittest.TestCase):
    # TD-0221
    def test_falls_back_to_email(self):
        sent = []
        dispatcher = Dispatcher({
            "push": lambda u, t: False,
            "sms": lambda u, t: sent.append("sms") or True,
            "email": lambda u, t: sent.append("email") or True,
        })
        self.assertEqual(dispatcher.send("u1", "hi", Preferences(), local_hour=12), "sms")
        self.assertEqual(dispatcher.send("u1", "hi", Preferences(), local_hour=23), "email")

    # NT-0221
    def test_confirmation_has_reference(self):
        self.assertIn("BK-7QX2", booking_confirmation_text("BK-7QX2", "Blue Room", "Tue 24 Nov, 10:00"))


if __name__ == "__main__":
    unittest.main()
