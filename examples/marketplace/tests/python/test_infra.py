"""Tests for WBS-001 infrastructure: TD-0341, TD-0342, TD-0343."""
import json
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.healthcheck import REQUIRED_CI_CHECKS, log_line, readiness  # noqa: E402


class ReadinessTests(unittest.TestCase):
    # TD-0341
    def test_failing_or_raising_probe_is_not_ready(self):
        def boom():
            raise ConnectionError("down")

        ok, report = readiness({"postgres": lambda: True, "redis": boom})
        self.assertFalse(ok)
        self.assertEqual(report["redis"], "error: ConnectionError")

    # TD-0342
    def test_spec_check_is_required(self):
        self.assertIn("concord-check", REQUIRED_CI_CHECKS)


class LoggingTests(unittest.TestCase):
    # TD-0343
    def test_sensitive_keys_redacted(self):
        record = json.loads(log_line("login", session_token="abc", user_id="u1"))
        self.assertEqual(record["session_token"], "[redacted]")
        self.assertEqual(record["user_id"], "u1")


if __name__ == "__main__":
    unittest.main()
