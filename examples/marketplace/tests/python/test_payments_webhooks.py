"""Tests for WBS-010 webhook handling (TD-0105)."""
import json
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.payments.webhooks import SignatureError, WebhookProcessor, sign, verify  # noqa: E402

SIGNING_VALUE = b"unit-test-webhook-signing"
EVENT = {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_test_1"}}}
PAYLOAD = json.dumps(EVENT).encode("utf-8")


class VerifyTests(unittest.TestCase):
    # TD-0105
    def test_valid_signature(self):
        header = f"t=1000,v1={sign(PAYLOAD, 1000, SIGNING_VALUE)}"
        self.assertEqual(verify(PAYLOAD, header, now=1100, signing_value=SIGNING_VALUE)["id"], "evt_1")

    def test_stale_or_wrong_signature(self):
        header = f"t=1000,v1={sign(PAYLOAD, 1000, SIGNING_VALUE)}"
        with self.assertRaises(SignatureError):
            verify(PAYLOAD, header, now=2000, signing_value=SIGNING_VALUE)
        with self.assertRaises(SignatureError):
            verify(PAYLOAD + b" ", header, now=1001, signing_value=SIGNING_VALUE)
        with self.assertRaises(SignatureError):
            verify(PAYLOAD, "v1=abc", now=1001, signing_value=SIGNING_VALUE)


class ReplayTests(unittest.TestCase):
    def test_each_event_processed_once(self):
        handled = []
        processor = WebhookProcessor({"payment_intent.succeeded": handled.append})
        self.assertEqual(processor.handle(EVENT), "processed")
        self.assertEqual(processor.handle(EVENT), "duplicate")
        self.assertEqual(len(handled), 1)
        self.assertEqual(processor.handle({"id": "evt_2", "type": "customer.created", "data": {}}), "ignored")


if __name__ == "__main__":
    unittest.main()
