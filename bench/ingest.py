"""Ingest benchmark: a 1,000,000-row synthetic staff extract into a fresh store.

Prints rows per second and the ingest process's peak RSS. Targets (issue 2): at least
100,000 rows/s on SQLite in one process, peak RSS at most 500 MB.

    .venv/bin/python bench/ingest.py [--rows N] [--postgresql URL]

The extract is generated first (not timed); the ingest runs in a child process so
its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from pathlib import Path
from governance.config import Settings
from governance.service import Service
home, url, extract = sys.argv[1], sys.argv[2] or None, Path(sys.argv[3])
service = Service(Settings(home=Path(home), database_url=url))
admin = service.authenticate(service.init().admin_token)
service.add_principal(admin, "dm-bench", role="data_manager", body="7A1")
data_manager = service.caller_for("dm-bench")
started = time.perf_counter()
result = service.ingest(data_manager, extract, kind="staff", org="7A1", period=2026)
seconds = time.perf_counter() - started
service.close()
print(json.dumps({"rows": result.rows_read, "accepted": result.rows_accepted,
                  "seconds": seconds}))
"""


def run(home: Path, url: str, extract: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), url, str(extract)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures["peak_rss_mb"] = max(peak_kib, before) / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgresql", help="also ingest into this PostgreSQL URL")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from synthetic import write_staff_extract

    with tempfile.TemporaryDirectory(prefix="wresgov-bench-") as temp:
        extract = Path(temp) / "staff.csv"
        started = time.perf_counter()
        write_staff_extract(extract, rows=args.rows, org="7A1", seed=1, period=2026)
        size_mb = extract.stat().st_size / 1e6
        print(
            f"extract: {args.rows:,} rows, {size_mb:.0f} MB, "
            f"generated in {time.perf_counter() - started:.1f} s"
        )
        targets = [("sqlite", "")]
        if args.postgresql:
            targets.append(("postgresql", args.postgresql))
        for name, url in targets:
            figures = run(Path(temp) / f"home-{name}", url, extract)
            rate = figures["rows"] / figures["seconds"]
            print(
                f"{name:<10} rows={int(figures['rows']):,} accepted="
                f"{int(figures['accepted']):,} seconds={figures['seconds']:.1f} "
                f"rows/s={rate:,.0f} peak_rss_mb={figures['peak_rss_mb']:.0f}"
            )


if __name__ == "__main__":
    main()
