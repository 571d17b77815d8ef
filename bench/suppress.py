"""Benchmark complementary suppression on a realistic WRES table (about 15,000 cells).

Builds body (within type within Wales) x staff group x AfC band x ethnic group
headcounts as Poisson draws from a multiplicative model of NHS Wales (about 112,000
staff: body sizes, staff-group, band and ethnic shares), then for each method
protects the table with the ``wres-wales`` policy, runs the exact attacker audit on
the pattern and prints cells, primary, secondary, seconds and unsafe cells. The
audit runs twice: from scratch ("audit s", as for a table checked with nothing
else known) and given the tables the method found ("audit+t s", as the pipeline
runs it; the same intervals). Each method runs in a child process with a
wall-clock cap, so one that does not finish is reported as such rather than
stalling the run.

With ``--peers`` (needs ``/work/bench-venv`` with ``pytauargus`` and ``acro``, see
``bench/peers.py``) the same table goes through tau-ARGUS (optimal, modular,
hypercube) and ACRO, and their patterns are audited by the same attacker.

    .venv/bin/python bench/suppress.py [--people N] [--bodies K] [--cap SECONDS]
        [--optimal-limit SECONDS] [--nested] [--prune-lps N] [--peers]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing as mp
import queue
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.errors import DisclosureError, TableError
from governance.policy_files import default_policy_dir
from governance.sdc.attack import audit
from governance.sdc.clear import build_problem
from governance.sdc.linear import build_system
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import policy_from_mapping
from governance.sdc.pool import feasible
from governance.sdc.primary import find_primary
from governance.sdc.problem import ProtectionProblem
from governance.sdc.suppress import protect
from governance.sdc.table import Dimension, InputCell, Table

PEER_PYTHON = Path("/work/bench-venv/bin/python")

# Approximate shares; see ../shared/reference/wres-reference.yaml for the sources.
BODIES = {
    "LHB": {"7A1": 19000, "7A2": 12000, "7A3": 12800, "7A4": 14500, "7A5": 13500,
            "7A6": 14000, "7A7": 8500},
    "Trust": {"RQF": 4000, "RT4": 3800, "RYT": 2000},
    "SHA": {"HEIW": 500, "DHCW": 1300},
}  # fmt: skip
STAFF = {"SG01": .06, "SG02": .02, "SG03": .27, "SG04": .05, "SG05": .10,
         "SG06": .13, "SG07": .22, "SG08": .10, "SG09": .05}  # fmt: skip
BANDS = {"1": .01, "2": .15, "3": .14, "4": .10, "5": .17, "6": .17, "7": .12,
         "8a": .06, "8b": .03, "8c": .02, "8d": .01, "9": .005, "VSM": .005}  # fmt: skip
ETHNIC = {"White": .85, "Mixed": .01, "Asian": .05, "Black": .02, "Other": .01,
          "Not stated": .06}  # fmt: skip


def build_table(
    people: int,
    bodies: int,
    seed: int,
    without: frozenset[str] = frozenset(),
    nested: bool = False,
) -> tuple[Table, dict[str, Any]]:
    """The leaf counts as a wresgov table, and the same as plain JSON for peers.

    With ``nested`` band is a level within staff group (one dimension of 127 codes,
    ``SG03/5`` under ``SG03``), so the table has three dimensions and no band totals
    across staff groups: 14,224 cells for the 12 bodies.
    """
    body_codes = [(group, code) for group, codes in BODIES.items() for code in codes]
    body_codes = body_codes[:bodies]
    hierarchy: dict[str, list[str]] = {"Wales": []}
    for group, code in body_codes:
        if group not in hierarchy:
            hierarchy["Wales"].append(group)
            hierarchy[group] = []
        hierarchy[group].append(code)
    dims = [
        Dimension("body", "Wales", hierarchy),
        Dimension("staff_group", "All", {"All": list(STAFF)}),
        Dimension("band", "All", {"All": list(BANDS)}),
        Dimension("ethnic_group", "All", {"All": list(ETHNIC)}),
    ]
    size = np.array([BODIES[g][c] for g, c in body_codes], dtype=float)
    shares = [size / size.sum()] + [
        np.array(list(d.values())) / sum(d.values()) for d in (STAFF, BANDS, ETHNIC)
    ]
    keep = [i for i, d in enumerate(dims) if d.name not in without]
    if nested:
        if {1, 2} - set(keep):
            raise SystemExit("--nested needs both staff_group and band")
        hierarchy = {"All": list(STAFF)} | {
            group: [f"{group}/{band}" for band in BANDS] for group in STAFF
        }
        dims[1] = Dimension("staff_band", "All", hierarchy)
        shares[1] = np.multiply.outer(shares[1], shares[2]).ravel()
        keep.remove(2)
    dims = [dims[i] for i in keep]
    mean = people * _outer([shares[i] for i in keep])
    counts = np.random.default_rng(seed).poisson(mean)
    leaves = list(itertools.product(*(d.leaves for d in dims)))
    cells = [
        InputCell(k, float(v)) for k, v in zip(leaves, counts.tolist(), strict=True)
    ]
    plain = {
        "dimensions": [
            {
                "name": d.name,
                "total": d.total,
                "hierarchy": {k: list(v) for k, v in d.hierarchy.items()},
            }
            for d in dims
        ],
        "leaves": [
            {"codes": list(k), "count": int(v)}
            for k, v in zip(leaves, counts.tolist(), strict=True)
        ],
        "min_count": 10,
    }
    return Table.from_cells("bench", dims, cells), plain


def _outer(shares: list[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    out = shares[0]
    for share in shares[1:]:
        out = np.multiply.outer(out, share)
    return out.ravel()


def _run_method(
    problem: ProtectionProblem,
    method: str,
    limit: float,
    prune_lps: int | str | None,
    out: Any,
    reached: Any,
) -> None:
    started = time.perf_counter()

    def progress(phase: str, fraction: float) -> None:
        # the phase reached and when: what a run cut off at the cap got to
        reached.put((phase, fraction, time.perf_counter() - started))

    try:
        result = protect(
            problem,
            method,  # type: ignore[arg-type]
            time_limit=limit,
            seed=0,
            progress=progress,
            prune_lps=prune_lps,  # type: ignore[arg-type]
        )
    except DisclosureError as error:  # reported in the table, not as a traceback
        out.put(error)
        return
    seconds = time.perf_counter() - started
    out.put((result.hidden, result.optimal, result.lower_bound, seconds))
    # the pipeline's audit: the tables the method found, checked, are witnesses
    hidden = result.hidden | problem.primary
    system = build_system(problem)
    tables = feasible(problem, system, hidden, result.witnesses)
    report = audit(problem, hidden, system=system, witnesses=tables)
    out.put((report.seconds, len(report.unsafe)))


def run_ours(
    problem: ProtectionProblem,
    method: str,
    cap: float,
    limit: float,
    prune_lps: int | str | None = "auto",
) -> dict[str, Any]:
    context = mp.get_context("fork")
    out = context.Queue()
    reached = context.Queue()
    child = context.Process(
        target=_run_method, args=(problem, method, limit, prune_lps, out, reached)
    )
    child.start()
    try:
        answer = out.get(timeout=cap)
    except queue.Empty:
        child.kill()
        child.join()
        last = None
        with contextlib.suppress(queue.Empty):
            while True:
                last = reached.get_nowait()
        where = (
            ""
            if last is None
            else f" (last: {last[0]} {last[1]:.0%} at {last[2]:.0f} s)"
        )
        return {
            "name": f"wresgov {method}",
            "error": f"did not finish in {cap:.0f} s{where}",
        }
    if not isinstance(answer, Exception):
        try:
            warm = out.get(timeout=cap)
        except queue.Empty:
            warm = None
    child.join()
    if isinstance(answer, Exception):
        return {
            "name": f"wresgov {method}",
            "error": f"{type(answer).__name__}: {answer}",
        }
    hidden, optimal, bound, seconds = answer
    return {
        "name": f"wresgov {method}",
        "hidden": np.asarray(hidden, dtype=bool),
        "seconds": seconds,
        "warm": warm,
        "note": f"optimal={optimal}, lower bound={bound}"
        if method == "optimal"
        else "",
    }


def run_peer(
    tool: str, plain: dict[str, Any], linked: LinkedSet, cap: float, limit: float
) -> dict[str, Any]:
    name = f"peer {tool}"
    if not PEER_PYTHON.exists():
        return {"name": name, "error": f"{PEER_PYTHON} not found"}
    with tempfile.TemporaryDirectory() as work:
        given, got = Path(work, "in.json"), Path(work, "out.json")
        given.write_text(json.dumps(plain))
        command = [str(PEER_PYTHON), str(Path(__file__).with_name("peers.py")),
                   "--input", str(given), "--out", str(got), "--tool", tool,
                   "--time-limit", str(int(limit))]  # fmt: skip
        try:
            subprocess.run(command, check=True, timeout=cap, capture_output=True)
        except subprocess.TimeoutExpired:
            return {"name": name, "error": f"did not finish in {cap:.0f} s"}
        except subprocess.CalledProcessError as error:
            return {"name": name, "error": f"exit {error.returncode}"}
        answer = json.loads(got.read_text())
    if not answer.get("ok"):
        return {"name": name, "error": str(answer.get("error", "failed"))}
    table = linked.tables[0]
    hidden = np.zeros(linked.size, dtype=bool)
    grid = linked.positions[table.name]
    missing = 0
    for cell in answer["cells"]:
        try:
            position = table.position(cell["codes"])
        except TableError:  # a code the peer made up or renamed
            missing += 1
            continue
        hidden[int(grid[position])] = cell["status"] != "published"
    note = answer.get("note", "")
    if missing:
        note = f"{note} {missing} cells not matched".strip()
    return {
        "name": name,
        "hidden": hidden,
        "seconds": float(answer["seconds"]),
        "note": note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=112_000)
    parser.add_argument(
        "--bodies", type=int, default=12, help="first K of the 12 bodies"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated dimensions to leave out, e.g. band (1,120 cells)",
    )
    parser.add_argument(
        "--nested",
        action="store_true",
        help="band within staff group: three dimensions (14,224 cells)",
    )
    parser.add_argument(
        "--cap", type=float, default=600.0, help="wall seconds per method"
    )
    parser.add_argument("--optimal-limit", type=float, default=300.0)
    parser.add_argument("--methods", default="fast,optimal")
    parser.add_argument(
        "--prune-lps",
        type=lambda v: v if v == "auto" else int(v),
        default="auto",
        help="the fast method's pruning LP budget: auto (the default) or a number",
    )
    parser.add_argument("--peers", action="store_true")
    parser.add_argument(
        "--zeros",
        default="small",
        choices=["publish", "small", "suppress"],
        help="primary.zeros; with zeros published some realistic tables cannot be"
        " protected at all (a margin whose parts are all small or zero)",
    )
    args = parser.parse_args()

    without = frozenset(d for d in args.without.split(",") if d)
    table, plain = build_table(
        args.people, args.bodies, args.seed, without, args.nested
    )
    linked = LinkedSet([table])
    data = yaml.safe_load((default_policy_dir() / "wres-wales.yaml").read_text())
    data["disclosure"]["primary"]["zeros"] = args.zeros
    policy = policy_from_mapping(data, source="bench")
    problem = build_problem(
        linked, policy.disclosure, find_primary(linked, policy.disclosure)
    )
    print(
        f"table: {problem.size} cells, {int(problem.primary.sum())} primary, "
        f"{len(problem.relations)} relations; policy wres-wales (threshold 10, width 3), zeros {args.zeros}"
    )
    runs = [
        run_ours(problem, m, args.cap, args.optimal_limit, args.prune_lps)
        for m in args.methods.split(",")
    ]
    if args.peers:
        for tool in ("tauargus-mod", "tauargus-opt", "tauargus-gh", "acro"):
            runs.append(run_peer(tool, plain, linked, args.cap, args.optimal_limit))
    print(f"{'method':<22}{'primary':>8}{'secondary':>10}{'seconds':>9}"
          f"{'unsafe':>8}{'audit s':>9}{'audit+t s':>10}  note")  # fmt: skip
    for run in runs:
        if "error" in run:
            print(
                f"{run['name']:<22}{'':>8}{'':>10}{'':>9}{'':>8}{'':>9}{'':>10}"
                f"  {run['error']}"
            )
            continue
        hidden = run["hidden"] | problem.primary
        report = audit(problem, hidden)
        secondary = int((hidden & ~problem.primary).sum())
        print(
            f"{run['name']:<22}{int(problem.primary.sum()):>8}{secondary:>10}"
            f"{run['seconds']:>9.1f}{len(report.unsafe):>8}{report.seconds:>9.1f}"
            f"{_warm(run):>10}  {run['note']}"
        )


def _warm(run: dict[str, Any]) -> str:
    """The audit given the method's tables: seconds (and unsafe cells if any);
    peers find no tables, so theirs is blank."""
    warm = run.get("warm")
    if warm is None:
        return ""
    seconds, unsafe = warm
    return f"{seconds:.1f}" + (f" ({unsafe})" if unsafe else "")


if __name__ == "__main__":
    main()
