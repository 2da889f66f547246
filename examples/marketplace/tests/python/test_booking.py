"""Tests for WBS-009 booking and checkout.

TD-0082 TD-0081 TD-0083 NT-0082 NT-0081 NT-0084 TD-0084
"""
import sys
import unittest
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.booking.availability import HoldBook, Interval, open_slots  # noqa: E402
from services.booking.checkout import STEPS, Booking, Checkout, State, refund_for  # noqa: E402


class FakePayments:
    def __init__(self):
        self.calls = []

    def authorize(self, booking_id, amount_minor, currency, capture):
        self.calls.append(("authorize", capture))
        return "pay_1"

    def refund(self, payment_ref, amount_minor):
        self.calls.append(("refund", amount_minor))


def day(h, m=0):
    return datetime(2026, 11, 24, h, m)


class AvailabilityTests(unittest.TestCase):
    # TD-0082
    def test_buffer_hides_adjacent_slots(self):
        busy = [Interval(day(12), day(14))]
        slots = open_slots(day(9), day(18), busy, timedelta(hours=2))
        starts = [s.start.hour for s in slots]
        self.assertEqual(starts, [9, 15, 16])

    # TD-0081
    def test_hold_blocks_then_expires(self):
        holds = HoldBook()
        slot = Interval(day(10), day(12))
        self.assertTrue(holds.place("lst_1", slot, "bk_a", now=0))
        self.assertFalse(holds.place("lst_1", Interval(day(11), day(13)), "bk_b", now=60))
        self.assertEqual(holds.holder("lst_1", slot, now=60), "bk_a")
        self.assertIsNone(holds.holder("lst_1", slot, now=15 * 60))
        self.assertTrue(holds.place("lst_1", Interval(day(11), day(13)), "bk_b", now=15 * 60 + 1))


class CheckoutTests(unittest.TestCase):
    def booking(self, instant):
        return Booking("bk_1", "lst_1", 12000, "EUR", datetime(2026, 12, 10, 10), instant=instant)

    # NT-0082
    def test_three_steps(self):
        self.assertEqual(len(STEPS), 3)

    # NT-0081 TD-0083
    def test_instant_book_confirms_on_payment(self):
        payments = FakePayments()
        booking = self.booking(instant=True)
        checkout = Checkout(payments)
        checkout.hold(booking)
        checkout.pay(booking)
        self.assertEqual(booking.state, State.CONFIRMED)
        self.assertEqual(payments.calls, [("authorize", True)])

    def test_request_to_book_waits_for_host(self):
        booking = self.booking(instant=False)
        checkout = Checkout(FakePayments())
        checkout.hold(booking)
        checkout.pay(booking)
        self.assertEqual(booking.state, State.REQUESTED)
        checkout.host_decision(booking, accept=False)
        self.assertEqual(booking.state, State.DECLINED)
        with self.assertRaises(ValueError):
            booking.move(State.CONFIRMED)

    # NT-0084 TD-0084
    def test_refund_tiers(self):
        self.assertEqual(refund_for("flexible", 10000, hours_before=72), 10000)
        self.assertEqual(refund_for("flexible", 10000, hours_before=10), 5000)
        self.assertEqual(refund_for("moderate", 10000, hours_before=60), 5000)
        self.assertEqual(refund_for("strict", 10000, hours_before=100), 0)

    def test_cancel_refunds_through_payments(self):
        payments = FakePayments()
        booking = self.booking(instant=True)
        checkout = Checkout(payments)
        checkout.hold(booking)
        checkout.pay(booking)
        refund = checkout.cancel(booking, now=booking.starts_at - timedelta(days=10))
        self.assertEqual(refund, 12000)
        self.assertEqual(payments.calls[-1], ("refund", 12000))


if __name__ == "__main__":
    unittest.main()
