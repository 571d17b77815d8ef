"""Protect one WRES count table with a peer disclosure-control tool, for the benchmark.

Runs only with the peer-tools virtualenv, which has ``pytauargus`` and ``acro``
installed; it imports nothing from wresgov:

    /work/bench-venv/bin/python bench/peers.py --input IN.json --out OUT.json \\
        --tool TOOL [--time-limit SECONDS]

TOOL is one of:

* ``tauargus-opt``: tau-ARGUS optimal suppression, ``OPT`` (pytauargus, HiGHS);
* ``tauargus-mod``: tau-ARGUS modular suppression, HiTaS ``MOD``;
* ``tauargus-gh``: tau-ARGUS hypercube, ``GH`` (pytauargus rejects it: it needs the
  external GHMiter program, so this always reports ``ok: false``);
* ``acro``: ACRO's ``crosstab`` with suppression on.

IN.json holds ``dimensions`` (each a ``name``, a ``total`` code and a ``hierarchy``
mapping a parent code to its children), ``leaves`` (the innermost code of every
dimension and a whole-number ``count``) and ``min_count``. Each tool gets microdata
with one row per person, made by expanding the leaf counts.

OUT.json holds ``tool``, ``version``, ``seconds`` (wall time of the protection call
only), ``ok``, ``error`` (one line, ``null`` when ok), ``settings`` (what the tool
was asked to do), ``note``, ``counts`` (cells per status) and ``cells``: one entry
per cell of the full hierarchical table, totals and subtotals included, keyed by
the codes of IN.json, with status ``published``, ``primary`` or ``secondary``.
ACRO's crosstab is flat, so its ``cells`` hold only the cells it produces; the
cells it cannot produce are listed in ``not_produced``.

The tool runs in a child process, which is killed when the protection call
outlives ``--time-limit`` (plus a few seconds to hand back its table). tau-ARGUS
is also given the limit, in whole minutes rounded up, but pytauargus 0.6.0 was
seen to run well past it, so the kill is what enforces it; ACRO takes no limit.
A tool error or overrun is written as ``ok: false`` and the script still exits 0,
so the calling benchmark can report it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-not-found, import-untyped, unused-ignore]  # peer venv only

TOOLS = ("tauargus-opt", "tauargus-mod", "tauargus-gh", "acro")

# tau-ARGUS frequency rule FREQ(min_count, range): a cell of 1..min_count-1 people is
# unsafe, and its required protection either way is range % of its count, never
# less than 1 (the engine's floor). 50 % makes the intruder's interval for a hidden
# count n at least max(2, n) wide: close to wresgov's policy of 3 for small counts
# (a little looser for 1 and 2 people, stricter from 4 up). tau-ARGUS has no
# absolute protection level for counts, so an exact match is not possible.
FREQ_SAFETY_RANGE = 50
# HiTaS singleton options (single-single, single-multiple, minimum frequency): all
# on, the default of sdcTable's tau-ARGUS interface (rtauargus's is 1,0,0).
MOD_SINGLETON_OPTIONS = "1,1,1"
# GH(table, a-priori bounds %, model size, apply singleton); pytauargus rejects GH
# before it reads these.
GH_OPTIONS = "100,0,1"
# Cost of hiding a cell: "-2" is tau-ARGUS's unity cost ("-1" is frequency, "-3"
# distance), so the solvers hide as few cells as possible, as wresgov's
# `cost: cells` policy does. tau-ARGUS's default cost, the cell's own count, would
# rather hide several small cells than one big one.
TAU_COST = "-2"
# tau-ARGUS cell status to ours: U unsafe, M secondary, S safe, P protected, E empty.
TAU_STATUS = {
    "U": "primary",
    "M": "secondary",
    "S": "published",
    "P": "published",
    "E": "published",
}
# Total code tau-ARGUS is given; every other code is replaced by a short
# synthetic one, so no input code can clash with it or upset the .asc layout.
TAU_TOTAL = "Total"
# Seconds allowed after the time limit for the tool to return its table.
GRACE_SECONDS = 10.0


class InputError(ValueError):
    """IN.json does not describe a table this script can protect."""


class TimeLimitError(RuntimeError):
    """The protection call outlived the time limit."""


@dataclass(frozen=True)
class Dimension:
    """One dimension of the table: its codes in pre-order, total first."""

    name: str
    total: str
    children: dict[str, list[str]]
    codes: list[str] = field(init=False)
    leaves: list[str] = field(init=False)

    def __post_init__(self) -> None:
        codes: list[str] = []
        stack = [self.total]
        while stack:
            code = stack.pop()
            if code in codes:
                raise InputError(f"{self.name}: code {code!r} appears twice")
            codes.append(code)
            stack.extend(reversed(self.children.get(code, [])))
        unreachable = set(self.children) - set(codes)
        if unreachable:
            raise InputError(f"{self.name}: parents not under the total: {unreachable}")
        object.__setattr__(self, "codes", codes)
        object.__setattr__(
            self, "leaves", [c for c in codes if not self.children.get(c)]
        )

    def depth(self, code: str) -> int:
        """Levels below the total: 0 for the total, 1 for its children."""
        level = 0
        while code != self.total:
            code = next(p for p, kids in self.children.items() if code in kids)
            level += 1
        return level

    def leaf_matrix(self) -> np.ndarray:
        """0/1 matrix, one row per code and one column per leaf under it."""
        column = {leaf: j for j, leaf in enumerate(self.leaves)}
        matrix = np.zeros((len(self.codes), len(self.leaves)), dtype=np.int64)
        for i, code in enumerate(self.codes):
            stack = [code]
            while stack:
                node = stack.pop()
                kids = self.children.get(node, [])
                if kids:
                    stack.extend(kids)
                else:
                    matrix[i, column[node]] = 1
        return matrix


@dataclass(frozen=True)
class Table:
    """The hierarchical count table described by IN.json."""

    dims: list[Dimension]
    leaf_counts: np.ndarray  # one axis per dimension, indexed by Dimension.leaves
    min_count: int

    def full_counts(self) -> np.ndarray:
        """Counts of every cell, one axis per dimension indexed by Dimension.codes."""
        counts = self.leaf_counts
        for axis, dim in enumerate(self.dims):
            summed = np.tensordot(dim.leaf_matrix(), counts, axes=([1], [axis]))
            counts = np.moveaxis(summed, 0, axis)
        return counts

    def cells(self) -> Iterator[tuple[str, ...]]:
        """Every cell of the full table, in pre-order along each dimension."""
        return itertools.product(*(dim.codes for dim in self.dims))

    def people(self) -> np.ndarray:
        """One row per person: the leaf index along each dimension."""
        flat = np.repeat(np.arange(self.leaf_counts.size), self.leaf_counts.ravel())
        return np.stack(np.unravel_index(flat, self.leaf_counts.shape), axis=1)


@dataclass
class Protection:
    """What a tool returned: a status for each cell it produced."""

    seconds: float
    statuses: dict[tuple[str, ...], str]
    settings: dict[str, Any]
    note: str | None = None
    not_produced: list[list[str]] | None = None


def load_table(path: Path) -> Table:
    """Read IN.json and check that its leaves fit its dimensions."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    dims = [
        Dimension(str(d["name"]), str(d["total"]), dict(d["hierarchy"]))
        for d in spec["dimensions"]
    ]
    if len({d.name for d in dims}) != len(dims):
        raise InputError("dimension names must be unique")
    index = [{leaf: i for i, leaf in enumerate(d.leaves)} for d in dims]
    counts = np.zeros([len(d.leaves) for d in dims], dtype=np.int64)
    for leaf in spec["leaves"]:
        codes, count = leaf["codes"], leaf["count"]
        if len(codes) != len(dims):
            raise InputError(f"leaf {codes} needs one code per dimension")
        if int(count) != count or count < 0:
            raise InputError(f"leaf {codes}: count {count} is not a whole number >= 0")
        try:
            position = tuple(index[i][code] for i, code in enumerate(codes))
        except KeyError as missing:
            raise InputError(f"leaf {codes}: {missing} is not a leaf code") from None
        counts[position] += int(count)
    return Table(dims, counts, int(spec["min_count"]))


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Send this process's stdout and stderr, native code's too, to /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w", encoding="utf-8") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def tau_suppress(tool: str, time_limit: float | None) -> str:
    """The tau-ARGUS SUPPRESS command for the tool; times are whole minutes."""
    minutes = None if time_limit is None else max(1, math.ceil(time_limit / 60))
    if tool == "tauargus-opt":
        return "OPT(1)" if minutes is None else f"OPT(1,{minutes})"
    if tool == "tauargus-mod":
        # MOD's time is per subtable and comes before the singleton options; the
        # child process enforces the overall limit.
        return f"MOD(1,{minutes or 0},{MOD_SINGLETON_OPTIONS})"
    return f"GH(1,{GH_OPTIONS})"


def run_tauargus(
    table: Table,
    tool: str,
    time_limit: float | None,
    work: str,
    started: Callable[[], None],
) -> Protection:
    """Protect the table with pytauargus.protect on microdata, one row per person."""
    import pytauargus  # type: ignore[import-not-found, import-untyped, unused-ignore]  # peer venv only

    people = table.people()
    names: list[str] = []
    columns: dict[str, np.ndarray] = {}
    hrc: dict[str, str] = {}
    from_tau: list[dict[str, str]] = []
    for i, dim in enumerate(table.dims):
        name = f"v{i + 1}"  # dimension names could clash with pytauargus's columns
        width = len(str(len(dim.codes)))
        to_tau = {code: f"c{j:0{width}d}" for j, code in enumerate(dim.codes)}
        to_tau[dim.total] = TAU_TOTAL
        leaf_codes = np.array([to_tau[leaf] for leaf in dim.leaves], dtype=object)
        columns[name] = leaf_codes[people[:, i]]
        lines = ["@" * (dim.depth(code) - 1) + to_tau[code] for code in dim.codes[1:]]
        hrc[name] = str(Path(work, f"{name}.hrc"))
        Path(hrc[name]).write_text("\n".join(lines) + "\n", encoding="utf-8")
        names.append(name)
        from_tau.append({tau: code for code, tau in to_tau.items()})
    microdata = pd.DataFrame(columns)
    microdata["n"] = 1  # response: the table's cells count the rows
    safety = f"FREQ({table.min_count},{FREQ_SAFETY_RANGE})"
    suppress = tau_suppress(tool, time_limit)
    started()
    clock = time.perf_counter()
    result = pytauargus.protect(
        microdata,
        tables=[names],
        response="n",
        cost_var=TAU_COST,
        safety_rules=safety,
        suppress=suppress,
        hrc=hrc,
        totcode=TAU_TOTAL,
        workdir=work,
    )
    seconds = time.perf_counter() - clock
    rows = result.tables[0].rows
    counts = table.full_counts()
    position = [{code: i for i, code in enumerate(d.codes)} for d in table.dims]
    statuses: dict[tuple[str, ...], str] = {}
    for row in rows:
        cell = tuple(from_tau[i][str(row[name])] for i, name in enumerate(names))
        if cell in statuses:
            raise RuntimeError(f"tau-ARGUS returned cell {cell} twice")
        expected = counts[tuple(position[i][c] for i, c in enumerate(cell))]
        if row["n"] != expected:
            raise RuntimeError(f"tau-ARGUS counts {row['n']} in {cell}, not {expected}")
        if row["status"] not in TAU_STATUS:
            raise RuntimeError(f"tau-ARGUS status {row['status']!r} in {cell}")
        statuses[cell] = TAU_STATUS[row["status"]]
    missing = [c for c in table.cells() if c not in statuses]
    if missing:
        raise RuntimeError(
            f"tau-ARGUS left out {len(missing)} cells, e.g. {missing[0]}"
        )
    settings = {
        "safety_rules": safety,
        "suppress": suppress,
        "response": "1 per person (frequency rule on the number of rows)",
        "cost": f"{TAU_COST} (unity: hide as few cells as possible)",
        "zeros": "empty cells are safe (no ZERO rule)",
        "engine": pytauargus.engine_meta(),
    }
    note = (
        "seconds cover the whole pytauargus.protect call: writing and reading the "
        "microdata, tabulating, the safety rule and the suppression"
    )
    return Protection(seconds, statuses, settings, note)


def run_acro(table: Table, started: Callable[[], None]) -> Protection:
    """Protect the table with ACRO's crosstab, suppression on, with margins."""
    if len(table.dims) < 2:
        raise InputError("ACRO's crosstab needs at least two dimensions")
    from acro import ACRO  # type: ignore[import-not-found, import-untyped, unused-ignore]  # peer venv only

    session = ACRO(suppress=True)
    session.config["safe_threshold"] = table.min_count
    session.config["zeros_are_disclosive"] = False  # as for tau-ARGUS: zeros publish
    split = len(table.dims) // 2
    leaf_codes = {leaf for dim in table.dims for leaf in dim.leaves}
    margin = "Total"
    while margin in leaf_codes:
        margin += "_"
    people = table.people()
    series = [
        pd.Series(
            pd.Categorical.from_codes(people[:, i], categories=dim.leaves),
            name=dim.name,
        )
        for i, dim in enumerate(table.dims)
    ]
    started()
    clock = time.perf_counter()
    published = session.crosstab(
        series[:split], series[split:], margins=True, margins_name=margin
    )
    seconds = time.perf_counter() - clock
    outcome = session.results.get_index(-1).outcome

    def codes(key: Any, dims: list[Dimension]) -> tuple[str, ...]:
        key = key if isinstance(key, tuple) else (key,)
        if key[0] == margin:
            return tuple(dim.total for dim in dims)
        return tuple(str(k) for k in key)

    counts = table.full_counts()
    position = [{code: i for i, code in enumerate(d.codes)} for d in table.dims]
    statuses: dict[tuple[str, ...], str] = {}
    altered = 0
    for row_key in published.index:
        for col_key in published.columns:
            cell = codes(row_key, table.dims[:split]) + codes(
                col_key, table.dims[split:]
            )
            count = counts[tuple(position[i][c] for i, c in enumerate(cell))]
            shown = published.at[row_key, col_key]
            flagged = "MinimumThresholdCheck" in str(outcome.at[row_key, col_key])
            if pd.isna(shown) or (flagged and count > 0):
                statuses[cell] = "primary" if flagged else "secondary"
            else:
                statuses[cell] = "published"
                altered += int(shown != count)
    not_produced = [list(c) for c in table.cells() if c not in statuses]
    emptied = sum(1 for status in statuses.values() if status == "secondary")
    row_dims = " x ".join(d.name for d in table.dims[:split])
    col_dims = " x ".join(d.name for d in table.dims[split:])
    note = (
        f"ACRO's crosstab is flat: rows {row_dims}, columns {col_dims}, with margins. "
        f"It produced {len(statuses)} of {len(statuses) + len(not_produced)} cells: "
        "the leaf cells, the total over all row dimensions together, the total over "
        "all column dimensions together and the grand total. It cannot produce "
        "hierarchy subtotals, nor a total over only some of the row (or column) "
        f"dimensions; those {len(not_produced)} cells are in not_produced. ACRO "
        "does no secondary suppression: it removes the records of the cells under "
        "the threshold (primary) and recomputes the table, margins included, from "
        f"the records left. So {altered} published margin cells show a count below "
        f"the true one, and {emptied} cells not under the threshold come out empty "
        "because all their records were removed (secondary). With zeros not "
        "disclosive, ACRO's table shows a hidden leaf cell as 0."
    )
    settings = {
        "safe_threshold": table.min_count,
        "zeros_are_disclosive": False,
        "suppress": True,
        "crosstab": {"index": row_dims, "columns": col_dims, "margins": True},
    }
    return Protection(seconds, statuses, settings, note, not_produced)


def child(
    table: Table, tool: str, time_limit: float | None, work: str, channel: Connection
) -> None:
    """Protect in this (forked) process and send the outcome to the parent.

    The message "started" goes first, just before the tool's timed call.
    """

    def started() -> None:
        channel.send("started")

    # pytauargus writes its solver files to fresh temporary directories, which a
    # killed child cannot remove: put them under the parent's work directory. The
    # HiTaS engine also writes logs and .dat files to the current directory.
    tempfile.tempdir = work
    os.chdir(work)
    with silenced():
        try:
            if tool == "acro":
                result = run_acro(table, started)
            else:
                result = run_tauargus(table, tool, time_limit, work, started)
        except Exception as exc:  # noqa: BLE001 - a failing tool is a result to report
            channel.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            channel.send(("ok", result))
    channel.close()


def receive(receiver: Connection, time_limit: float | None) -> tuple[str, Any]:
    """The child's outcome; raise TimeLimitError if its timed call outlives the limit."""
    message = receiver.recv()  # "started", or an error from before the timed call
    if message != "started":
        early: tuple[str, Any] = message
        return early
    clock = time.perf_counter()
    wait = None if time_limit is None else time_limit + GRACE_SECONDS
    if not receiver.poll(wait):
        raise TimeLimitError(
            f"no result after {time.perf_counter() - clock:.0f} s "
            f"(time limit {time_limit:g} s), so the tool was stopped"
        )
    outcome: tuple[str, Any] = receiver.recv()
    return outcome


def run_isolated(table: Table, tool: str, time_limit: float | None) -> Protection:
    """Protect in a child process, killed if it outlives the time limit."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    with tempfile.TemporaryDirectory(prefix="peers_") as work:
        process = context.Process(
            target=child, args=(table, tool, time_limit, work, sender)
        )
        process.start()
        sender.close()
        try:
            kind, payload = receive(receiver, time_limit)
        except EOFError:
            process.join()
            raise RuntimeError(
                f"the tool's process died without a result (exit {process.exitcode})"
            ) from None
        finally:
            receiver.close()
            process.kill()  # stops an overrun; one that has sent its result is done
            process.join()
    if kind == "error":
        raise RuntimeError(payload)
    protection: Protection = payload
    if time_limit is not None and protection.seconds > time_limit:
        raise TimeLimitError(
            f"the protection call took {protection.seconds:.1f} s, over the time "
            f"limit of {time_limit:g} s"
        )
    return protection


def version(tool: str) -> str:
    """Installed version of the tool's package."""
    return metadata.version("acro" if tool == "acro" else "pytauargus")


def one_line(message: str) -> str:
    """The message on a single line."""
    return " ".join(message.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="IN.json")
    parser.add_argument("--out", type=Path, required=True, help="OUT.json")
    parser.add_argument("--tool", choices=TOOLS, required=True)
    parser.add_argument(
        "--time-limit", type=float, default=None, help="seconds (default: none)"
    )
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"tool": args.tool, "version": version(args.tool)}
    try:
        table = load_table(args.input)
        result = run_isolated(table, args.tool, args.time_limit)
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        seconds = args.time_limit if isinstance(exc, TimeLimitError) else None
        out |= {"seconds": seconds, "ok": False, "error": one_line(str(exc))}
        out["cells"] = []
    else:
        tally = {status: 0 for status in ("published", "primary", "secondary")}
        for status in result.statuses.values():
            tally[status] += 1
        out |= {
            "seconds": round(result.seconds, 3),
            "ok": True,
            "error": None,
            "settings": result.settings,
            "note": result.note,
            "counts": tally,
            "cells": [
                {"codes": list(cell), "status": result.statuses[cell]}
                for cell in table.cells()
                if cell in result.statuses
            ],
        }
        if result.not_produced is not None:
            out["not_produced"] = result.not_produced
    args.out.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
