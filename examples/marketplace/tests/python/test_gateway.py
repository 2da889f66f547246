"""Tests for WBS-022 gateway rate limits (TD-0345)."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.gateway.rate_limit import Limiter  # noqa: E402


class LimiterTests(unittest.TestCase):
    def test_burst_then_refill(self):
        limiter = Limiter()
        allowed = [limiter.allow("ip-1", "login", now=0.0) for _ in range(7)]
        self.assertEqual(allowed.count(True), 5)
        self.assertFalse(limiter.allow("ip-1", "login", now=1.0))
        self.assertTrue(limiter.allow("ip-1", "login", now=4.0))
        self.assertTrue(limiter.allow("ip-2", "login", now=0.0))


if __name__ == "__main__":
    unittest.main()
