"""The disclosure pipeline: a linked set and a policy in, cleared tables out.

``apply`` runs the primary rules, builds the :class:`ProtectionProblem`, chooses
complementary cells (``governance.sdc.suppress.protect``), audits the pattern with
the exact attacker (``governance.sdc.attack.audit``) and only then builds the cleared
tables. :class:`ClearedTable` and :class:`ClearedSet` check a module-private token
in their constructors, so the only way to hold one is through ``apply``: anything
typed as cleared has passed the audit. If the audit finds any unsafe cell, ``apply``
raises :class:`DisclosureError` instead (fail closed).

A cleared table has one row per cell, totals included: the codes, ``display`` (the
number, the primary label ``<10`` or the secondary label ``[c]``) and ``status``
(``published``, ``primary``, ``secondary``). Neither it nor the evidence ever holds
the true value of a hidden cell; the evidence holds the intruder's intervals, which
anyone can compute from the published table. Because ``status`` is published, the
attacker model always assumes the intruder knows which hidden cells are small.

How a cell is shown (its status and display) is ``governance.sdc.display``'s.
Pure: values in, values out; ``governance.sdc.evidence`` renders a cleared set's
evidence. It never prints, logs or touches files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from governance.errors import DisclosureError, TableError
from governance.sdc.attack import AuditResult, audit
from governance.sdc.derived import DerivedSpec, DerivedValue, Deriver
from governance.sdc.display import (
    CellStatus,
    ClearedCell,
    HiddenCell,
    cell_statuses,
    digest_row,
    format_value,
    hidden_cells,
)
from governance.sdc.leaflp import Change
from governance.sdc.linear import build_system
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import DisclosurePolicy, MethodName, Policy
from governance.sdc.pool import feasible
from governance.sdc.primary import PrimaryCells, find_primary
from governance.sdc.problem import BoolArray, FloatArray, LinearFact, ProtectionProblem
from governance.sdc.table import Dimension, Table

__all__ = [
    "CellStatus",
    "ClearedCell",
    "ClearedSet",
    "ClearedTable",
    "Evidence",
    "HiddenCell",
    "Progress",
    "apply",
    "build_problem",
    "digest_row",
    "format_value",
    "with_intervals",
]

_TOKEN = object()


def _check_token(token: object, what: str) -> None:
    if token is not _TOKEN:
        raise TypeError(f"{what} can only be built by governance.sdc.clear.apply")


class ClearedTable:
    """One table of a cleared set: every cell's display and status, no hidden value."""

    __slots__ = ("cells", "dimensions", "extra_columns", "measure", "name")

    def __init__(
        self,
        *,
        name: str,
        dimensions: tuple[Dimension, ...],
        measure: str,
        cells: tuple[ClearedCell, ...],
        extra_columns: tuple[str, ...],
        token: object,
    ) -> None:
        _check_token(token, "ClearedTable")
        self.name = name
        self.dimensions = dimensions
        self.measure = measure
        self.cells = cells
        self.extra_columns = extra_columns

    def __repr__(self) -> str:
        return f"ClearedTable({self.name!r}, cells={len(self.cells)})"

    @property
    def columns(self) -> tuple[str, ...]:
        return (
            *(d.name for d in self.dimensions),
            "display",
            "status",
            *self.extra_columns,
        )

    def rows(self) -> list[dict[str, str]]:
        """The tidy rows, as written to CSV."""
        return [
            dict(
                zip(
                    self.columns,
                    (*c.codes, c.display, c.status, *c.extras),
                    strict=True,
                )
            )
            for c in self.cells
        ]

    def cell(self, *codes: str) -> ClearedCell:
        """Return the cleared cell with these codes (one per dimension)."""
        for cell in self.cells:
            if cell.codes == codes:
                return cell
        raise KeyError(codes)

    def render_csv(self) -> str:
        """The cleared table as CSV text (header, then one row per cell)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for cell in self.cells:
            writer.writerow((*cell.codes, cell.display, cell.status, *cell.extras))
        return out.getvalue()

    def digest(self) -> str:
        return hashlib.sha256(self.render_csv().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Evidence:
    """What the cleared set was made under, and the audit's verdict."""

    policy_id: str
    policy_version: int
    policy_sha256: str
    method_requested: str
    method_used: str
    measure: str
    cells: int
    primary: int
    secondary: int
    hidden: tuple[HiddenCell, ...]
    unsafe: tuple[dict[str, str], ...]
    lp_solves: int
    seconds_protect: float
    seconds_audit: float


class ClearedSet:
    """The cleared tables of one linked set, their derived values and the evidence."""

    __slots__ = ("derived", "evidence", "tables")

    def __init__(
        self,
        *,
        tables: tuple[ClearedTable, ...],
        derived: tuple[DerivedValue, ...],
        evidence: Evidence,
        token: object,
    ) -> None:
        _check_token(token, "ClearedSet")
        self.tables = tables
        self.derived = derived
        self.evidence = evidence

    def __repr__(self) -> str:
        return f"ClearedSet({[t.name for t in self.tables]})"

    def table(self, name: str) -> ClearedTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def digest(self) -> str:
        """SHA-256 of the published content (tables and derived values), not of timings."""
        content = {
            "tables": {t.name: t.digest() for t in self.tables},
            "derived": [digest_row(d) for d in self.derived],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


Progress = Callable[[str, float], None]
"""``progress(stage, fraction)``: called as long runs advance (fraction 0..1)."""


def build_problem(
    linked: LinkedSet,
    policy: DisclosurePolicy,
    primary: PrimaryCells,
    facts: Sequence[LinearFact] = (),
) -> ProtectionProblem:
    """Flatten a linked set under a policy into the shared linear model."""
    values = linked.values.astype(np.float64)
    count_table = linked.magnitudes is None
    if policy.secondary.cost == "cells":
        cost = np.ones(linked.size)
    else:
        cost = np.maximum(values, 1.0)
    # ``status`` tells a reader which hidden cells are small, so a complementary count
    # is known to be at least the threshold whatever the labels say.
    floor = float(policy.primary.threshold.min_count) if count_table else 0.0
    return ProtectionProblem(
        values=values,
        relations=linked.relations(),
        primary=primary.primary,
        # a [c] on a cell below the threshold (a published zero) would tell a lie
        candidate=~primary.primary & (values >= floor),
        cost=cost,
        primary_lower=primary.lower,
        primary_upper=primary.upper,
        secondary_lower=floor,
        protection=primary.protection,
        facts=tuple(facts),
        upper_protection=primary.upper_protection,
        lower_protection=primary.lower_protection,
        integral=count_table,
    )


def apply(
    linked: LinkedSet,
    policy: Policy,
    *,
    derived: Sequence[DerivedSpec] = (),
    method: MethodName | None = None,
    progress: Progress | None = None,
    pattern: BoolArray | None = None,
    prune_lps: int | Literal["auto"] | None = "auto",
) -> ClearedSet:
    """Protect a linked set under ``policy`` and return its cleared tables.

    ``method`` overrides the policy's ``secondary.method``. Derived values are
    computed only from published cells and their facts are audited with the rest.
    ``pattern`` (the hidden cells of an earlier, approved clearing) is audited
    instead of searching for complements: with the primary cells added, it must
    pass the same audit, or nothing is returned. ``prune_lps`` caps the LPs of the
    fast method's pruning (``governance.sdc.suppress.protect``).

    Raises:
        TableError: the tables lack what a rule needs (e.g. contributor columns).
        DisclosureError: the audit found a cell an intruder could narrow below the
            protection level; nothing is returned.
    """
    cleared, _ = _apply(
        linked, policy, derived=derived, method=method, progress=progress,
        pattern=pattern, prune_lps=prune_lps, audited=True,
    )  # fmt: skip
    return cleared


def _apply(
    linked: LinkedSet,
    policy: Policy,
    *,
    derived: Sequence[DerivedSpec],
    method: MethodName | None,
    progress: Progress | None,
    pattern: BoolArray | None,
    prune_lps: int | Literal["auto"] | None,
    audited: bool,
) -> tuple[ClearedSet, tuple[Change, ...]]:
    """:func:`apply`; with ``audited`` false, without the set's own audit, for
    ``governance.sdc.pack`` only. Also returns the tables the method found for
    the set's pattern (none for a given pattern): the pack's audit checks them
    against its own problem and takes those that hold as witnesses. They are as
    sensitive as the tables and never leave ``governance.sdc``.

    A pack audits all its sets together, with every set's relations and facts and
    more besides, so a set's own audit could only repeat a weaker verdict. Such a
    set states no intervals (``nan``) and no audit figures until
    :func:`with_intervals` gives it the whole-pack audit's: ``apply_pack`` does so
    for every set, or raises, before anything leaves it.
    """
    from governance.sdc.suppress import protect  # the methods load HiGHS models

    rules = policy.disclosure
    primary = find_primary(linked, rules)
    deriver = Deriver(linked, rules, derived)
    inherit = rules.derived.inherit_suppression
    # Without inheritance every ratio is published whatever is hidden, so the method
    # must choose complements knowing what the ratios tell the intruder.
    facts = [] if inherit else deriver.facts(deriver.published_ratios(None), None)
    problem = build_problem(linked, rules, primary, facts)
    chosen: MethodName = method or rules.secondary.method
    started = time.perf_counter()
    tables_found: tuple[Change, ...] = ()
    if pattern is None:
        result = protect(
            problem,
            chosen,
            time_limit=rules.secondary.time_limit,
            seed=0,
            progress=progress,
            prune_lps=prune_lps,
        )
        used = str(getattr(result, "method", chosen))
        hidden = np.asarray(result.hidden, dtype=bool) | primary.primary
        tables_found = tuple(getattr(result, "witnesses", ()))
    else:
        if np.shape(pattern) != (linked.size,):
            raise TableError("the given pattern needs one entry per cell")
        used = "given pattern"
        hidden = np.asarray(pattern, dtype=bool) | primary.primary
    protect_seconds = time.perf_counter() - started
    if inherit:
        facts = deriver.facts(deriver.published_ratios(hidden), hidden)
        problem = replace(problem, facts=tuple(facts))
    _check_usable(linked, problem, hidden)
    if audited:
        if progress is not None:
            progress("audit", 0.0)
        # The tables the method found are witnesses for this pattern where they
        # hold in the audit's problem (checked, not trusted): they spare LPs and
        # change no interval.
        system = build_system(problem)
        witnesses = feasible(problem, system, hidden, tables_found)
        report = audit(problem, hidden, system=system, witnesses=witnesses)
        if progress is not None:
            progress("audit", 1.0)
        _check_safe(linked, report)
        lower, upper = report.lower, report.upper
        lp_solves, audit_seconds = report.lp_solves, report.seconds
    else:
        lower = upper = np.full(linked.size, np.nan)
        lp_solves, audit_seconds = 0, 0.0
    statuses = cell_statuses(primary.primary, hidden)
    values = deriver.values(hidden)
    tables = tuple(
        _clear_table(t, linked, rules, primary, statuses, values) for t in linked.tables
    )
    evidence = Evidence(
        policy_id=policy.id,
        policy_version=policy.version,
        policy_sha256=policy.sha256,
        method_requested=chosen,
        method_used=used,
        measure=linked.measure,
        cells=linked.size,
        primary=int(primary.primary.sum()),
        secondary=int((hidden & ~primary.primary).sum()),
        hidden=hidden_cells(linked, statuses, hidden, lower, upper),
        unsafe=(),
        lp_solves=lp_solves,
        seconds_protect=protect_seconds,
        seconds_audit=audit_seconds,
    )
    cleared = ClearedSet(
        tables=tables, derived=tuple(values), evidence=evidence, token=_TOKEN
    )
    return cleared, tables_found


def _check_usable(
    linked: LinkedSet, problem: ProtectionProblem, hidden: BoolArray
) -> None:
    usable = problem.primary | problem.usable_candidates()
    if bool(np.any(hidden & ~usable)):
        bad = int(np.flatnonzero(hidden & ~usable)[0])
        raise DisclosureError(
            f"the suppression hid cell {linked.describe(bad)}, which it may not"
        )


def _check_safe(linked: LinkedSet, report: AuditResult) -> None:
    if not report.feasible:
        raise DisclosureError(
            "the audit found the table inconsistent with its own labels or relations;"
            " nothing was cleared"
        )
    if report.unsafe:
        first = linked.describe(report.unsafe[0])
        raise DisclosureError(
            f"{len(report.unsafe)} cells could be worked out to within the protection"
            f" level, first {first}; nothing was cleared"
        )


def _clear_table(
    table: Table,
    linked: LinkedSet,
    rules: DisclosurePolicy,
    primary: PrimaryCells,
    statuses: list[CellStatus],
    derived: Sequence[DerivedValue],
) -> ClearedTable:
    labels = rules.labels
    extra: dict[str, dict[tuple[str, ...], str]] = {}
    for value in derived:
        if (
            value.column is not None
            and value.column[0] == table.name
            and value.row is not None
        ):
            extra.setdefault(value.column[1], {})[value.row] = value.display
    columns = tuple(extra)
    values = linked.values
    cells = []
    for codes, index in zip(
        table.cells(), linked.positions[table.name].ravel().tolist(), strict=True
    ):
        status = statuses[index]
        if status == "published":
            display = format_value(float(values[index]), table.decimals)
        elif status == "primary" and primary.small_label[index]:
            display = labels.primary
        else:
            display = labels.secondary
        extras = tuple(extra[c].get(codes, "") for c in columns)
        cells.append(ClearedCell(codes, display, status, extras))
    return ClearedTable(
        name=table.name,
        dimensions=table.dimensions,
        measure=table.measure,
        cells=tuple(cells),
        extra_columns=columns,
        token=_TOKEN,
    )


def with_intervals(
    cleared: ClearedSet,
    linked: LinkedSet,
    lower: FloatArray,
    upper: FloatArray,
    audited: tuple[int, float] | None = None,
) -> ClearedSet:
    """The same cleared set, its evidence's intervals from a wider audit.

    A pack audits all its linked sets together (``governance.sdc.pack``); that
    intruder knows more than one set's, so the intervals it finds (``lower`` and
    ``upper``, indexed like ``linked``) are the ones the evidence should state.
    Nothing published changes, nor the digest. ``audited`` (LP solves, seconds)
    gives that audit's figures to a set cleared without its own
    (``_apply`` with ``audited`` false).
    """
    hidden = tuple(
        replace(
            h,
            lower=float(lower[index]),
            upper=float(upper[index]),
        )
        for h in cleared.evidence.hidden
        for index in (linked.index_of(h.cell),)
    )
    evidence = replace(cleared.evidence, hidden=hidden)
    if audited is not None:
        evidence = replace(evidence, lp_solves=audited[0], seconds_audit=audited[1])
    return ClearedSet(
        tables=cleared.tables,
        derived=cleared.derived,
        evidence=evidence,
        token=_TOKEN,
    )
