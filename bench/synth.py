"""Time the synthetic generator: the default all-Wales extract and a 1,000,000-row file.

Prints wall time, rows per second and peak RSS for each. Run from the repository root:
``.venv/bin/python bench/synth.py [--rows N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import generate, write_staff_extract  # after the path fix


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        start = time.perf_counter()
        summary = generate(out / "wales")
        wales = time.perf_counter() - start
        rows = sum(summary.rows_by_kind().values())
        print(
            f"default Wales extract: {summary.staff:,} staff, {rows:,} rows in "
            f"{len(summary.files)} files: {wales:.2f} s ({rows / wales:,.0f} rows/s), "
            f"peak RSS {_peak_rss_mb():.0f} MB"
        )
        path = out / "staff-1m.csv"
        start = time.perf_counter()
        write_staff_extract(path, rows=args.rows)
        big = time.perf_counter() - start
        size = path.stat().st_size / 1e6
        print(
            f"staff extract: {args.rows:,} rows, {size:.0f} MB: {big:.2f} s "
            f"({args.rows / big:,.0f} rows/s), peak RSS {_peak_rss_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
