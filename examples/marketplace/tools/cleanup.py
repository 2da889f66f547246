"""Delete abandoned upload fragments older than a number of days.

Usage: python3 tools/cleanup.py /var/tmp/uploads --days 3 [--dry-run]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def stale_files(root: Path, days: float, now: float) -> list[Path]:
    cutoff = now - days * 86400
    return sorted(p for p in root.rglob("*.part") if p.is_file() and p.stat().st_mtime < cutoff)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    for path in stale_files(args.root, args.days, time.time()):
        print(("would remove " if args.dry_run else "removing ") + str(path))
        if not args.dry_run:
            os.remove(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
