"""Tests for WBS-005 listings.

Covers TD-0061, NT-0061, TD-0063, NT-0062, NT-0064,
TD-0062 and NT-0063.
"""
import sys
import unittest
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.listings import pricing, studio  # noqa: E402
from services.listings.studio import ListingState  # noqa: E402


def ready_listing():
    listing = studio.create_draft("host_4", "Live room with Neve console", "Berlin")
    listing.address = "Hauptstrasse 1"
    listing.hourly_rate_minor = 4500
    listing.photos = ["p1.jpg", "p2.jpg", "p3.jpg"]
    return listing


class LifecycleTests(unittest.TestCase):
    # NT-0061 TD-0061
    def test_new_listing_is_a_draft(self):
        listing = studio.create_draft("host_4", "  Live room  ", "Berlin")
        self.assertEqual(listing.state, ListingState.DRAFT)
        self.assertEqual(listing.title, "Live room")

    def test_publish_pause_archive(self):
        listing = ready_listing()
        studio.transition(listing, ListingState.PUBLISHED)
        studio.transition(listing, ListingState.PAUSED)
        studio.transition(listing, ListingState.ARCHIVED)
        with self.assertRaises(ValueError):
            studio.transition(listing, ListingState.PUBLISHED)

    # TD-0063 NT-0062
    def test_publish_needs_three_photos(self):
        listing = ready_listing()
        listing.photos = listing.photos[:2]
        self.assertIn("add at least 3 photos", studio.publish_problems(listing))
        with self.assertRaises(ValueError):
            studio.transition(listing, ListingState.PUBLISHED)

    # NT-0064
    def test_unknown_policy_and_address_privacy(self):
        listing = ready_listing()
        listing.cancellation_policy = "whenever"
        self.assertIn("choose a cancellation policy", studio.publish_problems(listing))
        self.assertEqual(studio.public_address(listing, booking_confirmed=False), "Berlin")
        self.assertEqual(studio.public_address(listing, booking_confirmed=True), "Hauptstrasse 1")


class PricingTests(unittest.TestCase):
    # TD-0062
    def test_peak_hours_use_multiplier(self):
        card = pricing.RateCard(hourly_minor=4000, peak_multiplier=1.5)
        weekday_evening = datetime(2026, 11, 24, 17, 0)
        self.assertEqual(pricing.quote(card, weekday_evening, datetime(2026, 11, 24, 19, 0)), 4000 + 6000)

    # NT-0063
    def test_day_rate_caps_long_bookings(self):
        card = pricing.RateCard(hourly_minor=4000, day_rate_minor=25000)
        start = datetime(2026, 11, 24, 9, 0)
        self.assertEqual(pricing.quote(card, start, datetime(2026, 11, 24, 17, 0)), 25000)
        with self.assertRaises(ValueError):
            pricing.quote(card, start, datetime(2026, 11, 24, 9, 30))
        with self.assertRaises(ValueError):
            pricing.RateCard(hourly_minor=100, peak_multiplier=3.0)


if __name__ == "__main__":
    unittest.main()
