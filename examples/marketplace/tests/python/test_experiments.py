"""Tests for WBS-018 experiments: TD-0321, TD-0322."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.experiments.assign import ExposureLog, assign  # noqa: E402

VARIANTS = [("control", 9000), ("new_ranking", 1000)]


class AssignmentTests(unittest.TestCase):
    # TD-0321
    def test_stable_and_roughly_weighted(self):
        first = [assign("search-ranking-v2", f"u{i}", VARIANTS) for i in range(2000)]
        again = [assign("search-ranking-v2", f"u{i}", VARIANTS) for i in range(2000)]
        self.assertEqual(first, again)
        share = first.count("new_ranking") / len(first)
        self.assertTrue(0.06 < share < 0.14, share)

    def test_weights_must_sum(self):
        with self.assertRaises(ValueError):
            assign("x", "u1", [("a", 5000)])

    # TD-0322
    def test_exposure_logged_once(self):
        log = ExposureLog()
        self.assertTrue(log.expose("search-ranking-v2", "u1", "control"))
        self.assertFalse(log.expose("search-ranking-v2", "u1", "control"))
        self.assertEqual(len(log.entries), 1)


if __name__ == "__main__":
    unittest.main()
