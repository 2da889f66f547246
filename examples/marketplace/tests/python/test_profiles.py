"""Tests for WBS-003 profiles: TD-0021, NT-0021, TD-0022, NT-0022."""
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.profiles.profile import Profile, add_portfolio_link, avatar_variants, validate_handle  # noqa: E402


def host(**overrides):
    fields = dict(user_id="usr_9", handle="northside-sound", display_name="Northside Sound",
                  role="host", email="bookings@northside.example", phone="+49 30 0000000")
    fields.update(overrides)
    return Profile(**fields)


class HandleTests(unittest.TestCase):
    # TD-0021
    def test_valid_handles(self):
        self.assertEqual(validate_handle("  Northside-Sound ", taken=set()), "northside-sound")

    def test_invalid_reserved_and_taken(self):
        for bad in ["ab", "-lead", "trail-", "double--dash", "x" * 31]:
            with self.assertRaises(ValueError, msg=bad):
                validate_handle(bad, taken=set())
        with self.assertRaises(ValueError):
            validate_handle("support", taken=set())
        with self.assertRaises(ValueError):
            validate_handle("blue-room", taken={"blue-room"})


class PublicViewTests(unittest.TestCase):
    # NT-0021
    def test_public_view_hides_contact_details(self):
        view = host().public_view()
        self.assertNotIn("email", view)
        self.assertNotIn("phone", view)
        self.assertEqual(view["handle"], "northside-sound")

    # TD-0022
    def test_avatar_variants(self):
        self.assertEqual(sorted(avatar_variants("a1")), [64, 192, 512])
        self.assertEqual(host(avatar_key="a1").public_view()["avatar"][64], "avatars/a1/64.webp")


class PortfolioTests(unittest.TestCase):
    # NT-0022
    def test_portfolio_rules(self):
        guest = host(role="guest", handle="mara-k")
        add_portfolio_link(guest, "https://tracks.example/mara/demo-1")
        add_portfolio_link(guest, "https://tracks.example/mara/demo-1")
        self.assertEqual(len(guest.portfolio_links), 1)
        with self.assertRaises(ValueError):
            add_portfolio_link(guest, "http://insecure.example")
        for i in range(2, 6):
            add_portfolio_link(guest, f"https://tracks.example/mara/demo-{i}")
        with self.assertRaises(ValueError):
            add_portfolio_link(guest, "https://tracks.example/mara/demo-6")
        self.assertEqual(len(guest.public_view()["portfolio"]), 5)


if __name__ == "__main__":
    unittest.main()
