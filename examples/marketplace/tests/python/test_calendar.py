"""Tests for WBS-007 calendar import: TD-0161, NT-0161."""
import sys
import unittest
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.calendar.ical_sync import parse_busy_blocks, unfold  # noqa: E402

FEED = "\r\n".join([
    "BEGIN:VCALENDAR",
    "BEGIN:VEVENT",
    "SUMMARY:Drum tracking, private",
    "DTSTART:20261124T100000Z",
    "DTEND:20261124T130000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART:20261124T120000Z",
    "DTEND:20261124T150000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART;VALUE=DATE:20261126",
    "END:VEVENT",
    "END:VCALENDAR",
])


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


class ICalTests(unittest.TestCase):
    # TD-0161
    def test_unfolding(self):
        self.assertEqual(unfold("SUMMARY:Long\r\n  title\r\n"), ["SUMMARY:Long title"])

    # TD-0161 NT-0161
    def test_blocks_are_parsed_and_merged(self):
        blocks = parse_busy_blocks(FEED)
        self.assertEqual(blocks, [
            (utc(2026, 11, 24, 10), utc(2026, 11, 24, 15)),
            (utc(2026, 11, 26), utc(2026, 11, 27)),
        ])


if __name__ == "__main__":
    unittest.main()
