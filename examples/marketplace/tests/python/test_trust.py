"""Tests for WBS-015 trust rules: TD-0201, TD-0202."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.trust.risk_rules import BookingSignals, evaluate  # noqa: E402


def signals(**kw):
    base = dict(account_age_hours=400, amount_eur=120, card_attempts_last_hour=1,
                country_mismatch=False, prior_completed_bookings=3)
    base.update(kw)
    return BookingSignals(**base)


class RuleTests(unittest.TestCase):
    # TD-0201
    def test_regular_booking_allowed(self):
        self.assertEqual(evaluate(signals())[0], "allow")

    def test_new_account_large_amount_reviewed(self):
        decision, fired = evaluate(signals(account_age_hours=0.5, amount_eur=800))
        self.assertEqual(decision, "review")
        self.assertIn("new_account_large_amount", fired)

    # TD-0202
    def test_velocity_plus_new_account_blocks(self):
        decision, _ = evaluate(signals(account_age_hours=0.2, amount_eur=900, card_attempts_last_hour=5))
        self.assertEqual(decision, "block")


if __name__ == "__main__":
    unittest.main()
