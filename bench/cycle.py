"""Time the README's main job: ``wresgov demo`` at the default Wales size.

Runs the console script exactly as a user would, in a fresh temporary directory,
``--repeat`` times (default 1), and prints the wall time of each run, the peak RSS of
the child process and the demo's own closing line. Run from the repository root:

    .venv/bin/python bench/cycle.py [--staff N] [--repeat K] [--keep]

Prints figures; asserts nothing (the target in issue 5 is at most 60 s).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the demo directory")
    args = parser.parse_args()
    script = Path(sys.executable).with_name("wresgov")
    for run in range(1, args.repeat + 1):
        base = Path(tempfile.mkdtemp(prefix="wresgov-cycle-"))
        command = [str(script), "demo", "--dir", str(base / "demo")]
        if args.staff is not None:
            command += ["--staff", str(args.staff)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        last = [line for line in done.stdout.splitlines() if line.startswith("done in")]
        print(
            f"run {run}: exit {done.returncode}, {seconds:.1f} s wall, "
            f"peak RSS {peak:.0f} MB; {last[0] if last else done.stderr.strip()[-200:]}"
        )
        if args.keep:
            print(f"  kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
