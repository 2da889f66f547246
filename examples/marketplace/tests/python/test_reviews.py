"""Tests for WBS-014 reviews: TD-0181, TD-0182."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.reviews.ratings import ReviewPair, smoothed_rating  # noqa: E402


class RatingTests(unittest.TestCase):
    # TD-0182
    def test_single_five_star_is_smoothed(self):
        self.assertLess(smoothed_rating([5]), 4.5)
        self.assertGreater(smoothed_rating([5] * 200), 4.95)


class RevealTests(unittest.TestCase):
    # TD-0181
    def test_double_blind(self):
        pair = ReviewPair(guest_submitted=True)
        self.assertFalse(pair.visible(days_since_session=3))
        pair.host_submitted = True
        self.assertTrue(pair.visible(days_since_session=3))
        self.assertTrue(ReviewPair(guest_submitted=True).visible(days_since_session=14))


if __name__ == "__main__":
    unittest.main()
