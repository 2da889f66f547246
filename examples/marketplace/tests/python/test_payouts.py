"""Tests for WBS-011 payouts: TD-0122, NT-0121, TD-0124."""
import sys
import unittest
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payouts.schedule import PayoutContext, due_payouts, release_time  # noqa: E402

END = datetime(2026, 11, 20, 18, 0)


class ReleaseTests(unittest.TestCase):
    # NT-0121
    def test_established_host_paid_next_day(self):
        self.assertEqual(release_time(PayoutContext(END, completed_payouts=10)), END + timedelta(hours=24))

    # TD-0124
    def test_holds(self):
        self.assertEqual(release_time(PayoutContext(END, completed_payouts=0)), END + timedelta(days=7))
        self.assertIsNone(release_time(PayoutContext(END, completed_payouts=10, dispute_open=True)))
        changed = PayoutContext(END, completed_payouts=10, bank_changed_at=END)
        self.assertEqual(release_time(changed), END + timedelta(hours=72))

    # TD-0122
    def test_due_payouts_sorted(self):
        contexts = {
            "bk_new": PayoutContext(END, completed_payouts=0),
            "bk_old": PayoutContext(END - timedelta(days=1), completed_payouts=9),
            "bk_mid": PayoutContext(END, completed_payouts=9),
        }
        self.assertEqual(due_payouts(contexts, END + timedelta(days=2)), ["bk_old", "bk_mid"])


if __name__ == "__main__":
    unittest.main()
