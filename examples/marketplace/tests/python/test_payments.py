"""Tests for WBS-010 payments.

TD-0103 TD-0102 TD-0106 NT-0101 TD-0101 TD-0104 NT-0103
"""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payments.receipts import vat_lines  # noqa: E402
from services.payments.refunds import RefundLedger, RefundService, partial_amount  # noqa: E402
from services.payments.stripe_gateway import StripeGateway, idempotency_key, to_minor_units  # noqa: E402


class FakeStripe:
    """Records requests instead of calling the network."""

    def __init__(self):
        self.requests = []

    def __call__(self, method, url, form, headers):
        self.requests.append((method, url, dict(form), dict(headers)))
        if url.endswith("/refunds"):
            return {"id": f"re_{len(self.requests)}"}
        return {"id": "pi_test_1", "status": "requires_payment_method",
                "amount": form.get("amount", "0"), "currency": form.get("currency", "eur")}


def gateway(fake):
    return StripeGateway(fake, credentials=lambda: "unit-test-placeholder")


class MinorUnitTests(unittest.TestCase):
    # TD-0106
    def test_minor_units(self):
        self.assertEqual(to_minor_units("12.50", "EUR"), 1250)
        self.assertEqual(to_minor_units("0.125", "usd"), 13)
        self.assertEqual(to_minor_units("1200", "JPY"), 1200)


class IntentTests(unittest.TestCase):
    # TD-0102
    def test_idempotency_key_is_stable(self):
        self.assertEqual(idempotency_key("bk_1", "create_intent", 1), idempotency_key("bk_1", "create_intent", 1))
        self.assertNotEqual(idempotency_key("bk_1", "create_intent", 1), idempotency_key("bk_1", "create_intent", 2))

    # TD-0103 NT-0101 TD-0101
    def test_create_intent_request(self):
        fake = FakeStripe()
        result = gateway(fake).create_payment_intent("bk_7", 4500, "EUR", manual_capture=True)
        method, url, form, headers = fake.requests[0]
        self.assertEqual((method, url.rsplit("/", 1)[-1]), ("POST", "payment_intents"))
        self.assertEqual(form["capture_method"], "manual")
        self.assertEqual(form["automatic_payment_methods[enabled]"], "true")
        self.assertEqual(form["currency"], "eur")
        self.assertEqual(headers["Idempotency-Key"], idempotency_key("bk_7", "create_intent", 1))
        self.assertEqual(result.amount_minor, 4500)

    def test_rejects_non_positive_amounts(self):
        with self.assertRaises(ValueError):
            gateway(FakeStripe()).create_payment_intent("bk_7", 0, "EUR", manual_capture=False)


class RefundTests(unittest.TestCase):
    # TD-0104
    def test_partial_amount_rounds_down(self):
        self.assertEqual(partial_amount(999, 0.5), 499)
        with self.assertRaises(ValueError):
            partial_amount(999, 1.5)

    def test_refunds_never_exceed_charge(self):
        ledger = RefundLedger(charged={"bk_7": 4500})
        service = RefundService(gateway(FakeStripe()), ledger)
        service.refund("bk_7", "pi_test_1", 3000)
        with self.assertRaises(ValueError):
            service.refund("bk_7", "pi_test_1", 2000)
        self.assertEqual(ledger.refundable("bk_7"), 1500)


class ReceiptTests(unittest.TestCase):
    # NT-0103
    def test_vat_split(self):
        lines = vat_lines(11900, "de")
        self.assertEqual((lines.net_minor, lines.vat_minor, lines.vat_rate), (10000, 1900, 19))
        self.assertEqual(vat_lines(5000, "US").vat_minor, 0)


if __name__ == "__main__":
    unittest.main()
