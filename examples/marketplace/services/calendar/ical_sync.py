"""iCal feed import for external calendars. Implements WBS-007.

Spec: TD-0161 (feed parsing), NT-0161 (two-way sync: imported blocks hide slots).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def unfold(text: str) -> list[str]:
    """RFC 5545 line unfolding: a line starting with a space continues the previous one."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _parse_time(name_and_params: str, value: str) -> datetime:
    if "VALUE=DATE" in name_and_params and "T" not in value:
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=timezone.utc)
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    # Floating times are read as UTC; TZID support is tracked in the spec.
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)


def parse_busy_blocks(text: str) -> list[tuple[datetime, datetime]]:
    """TD-0161: (start, end) of every VEVENT; summaries are dropped on purpose."""
    blocks = []
    start = end = None
    in_event = False
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            in_event, start, end = True, None, None
        elif line == "END:VEVENT" and in_event:
            if start is not None:
                blocks.append((start, end or start + timedelta(days=1)))
            in_event = False
        elif in_event and name.startswith("DTSTART"):
            start = _parse_time(name, value)
        elif in_event and name.startswith("DTEND"):
            end = _parse_time(name, value)
    return merge(blocks)


def merge(blocks: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """NT-0161: overlapping blocks become one, so the slot finder sees fewer intervals."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
