"""Checking a count table someone is about to publish, wherever it was made.

The table is tidy: one column per dimension and a ``display`` column (wresgov's
cleared format, optionally with ``status`` and ``percent_<dimension>`` columns) or a
``count`` column holding numbers and suppression symbols. Symbols are read as a
reader would: the primary label or any ``<N`` means a small count (1 to N - 1, or
0 to N - 1 when the policy hides zeros); the secondary label means at least the
threshold when small counts carry their own label (or a ``status`` column says which
cells are primary); other common symbols (``*``, ``c``, ``x``, ``[x]``, ``..``,
``:``, ``~``, ``[low]``) mean only "hidden". Any other text is refused.

Findings:

- ``small_cell`` (unsafe): a published count below the threshold;
- ``recoverable`` (unsafe): a hidden cell that may be small, whose interval for an
  intruder who knows everything published (``governance.sdc.attack.audit``) is
  narrower than the protection level; the interval is reported;
- ``derived_over_hidden`` (unsafe): a published percentage over a hidden count
  (with ``inherit_suppression``); its facts enter the audit either way;
- ``inconsistent`` (unsafe): the labels and published values contradict each other,
  so the labels tell a reader more than they claim;
- ``exact_hidden`` and ``missing_cells`` (notes): a hidden cell anyone can work out
  that is not small, and cells absent from the table.

A published total that does not equal the sum of its published parts makes the
table unusable (:class:`TableError`). Magnitude tables are not checked here: their
protection is evidenced by ``wresgov protect``. Renderers (text, JSON, JUnit XML)
are in :mod:`governance.sdc.check_report`. This module never prints or logs; its
findings name cells, never a published small count's value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

import numpy as np

from governance.errors import TableError
from governance.sdc.attack import audit
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import Policy, ZerosMode
from governance.sdc.problem import BoolArray, FloatArray, LinearFact, ProtectionProblem
from governance.sdc.structure import infer_structure
from governance.sdc.table import Dimension, Table, describe_cell
from governance.sdc.tidy import TidyFile

Kind = Literal[
    "small_cell",
    "recoverable",
    "derived_over_hidden",
    "inconsistent",
    "exact_hidden",
    "missing_cells",
]
Severity = Literal["unsafe", "note"]

#: Symbols that mean "hidden" without saying anything about the value.
GENERIC_SYMBOLS = frozenset(
    {"*", "**", "c", "[c]", "x", "[x]", "..", ":", "~", "[low]", "s"}
)
_LESS_THAN = re.compile(r"^<\s*(\d+)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_STATUSES = frozenset({"published", "primary", "secondary"})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    cell: str
    message: str
    interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class CheckResult:
    source: str
    policy_id: str
    policy_sha256: str
    cells: int
    hidden: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def safe(self) -> bool:
        return not any(f.severity == "unsafe" for f in self.findings)

    @property
    def unsafe(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "unsafe")


@dataclass
class _Cell:
    row: int
    value: float | None
    """Published value, or None when hidden."""
    lower: float = 0.0
    upper: float = float("inf")
    small: bool = False
    """Hidden and labelled (or marked) as a small count."""
    generic: bool = False
    """Hidden with a symbol that says nothing about the value."""
    percents: dict[str, tuple[float, int] | None] = field(default_factory=dict)
    """Published percentages by column, with the decimals shown."""


def check_table(
    tidy: TidyFile,
    policy: Policy,
    dimensions: Sequence[Dimension] | None = None,
    *,
    table: str | None = None,
) -> CheckResult:
    """Check a tidy count table against ``policy``; see the module docstring.

    ``table`` names the table for the policy's per-table rules
    (``zeros_by_table``); by default the file's name without its suffix.

    Raises:
        TableError: the table cannot be read as a count table (unknown symbol,
            missing column, a code outside the structure, inconsistent totals).
    """
    value_col = next((c for c in ("display", "count") if c in tidy.columns), None)
    if value_col is None:
        raise TableError(f"{tidy.source}: needs a 'display' or 'count' column")
    status_col = "status" if "status" in tidy.columns else None
    percent_cols = [c for c in tidy.columns if c.startswith("percent_")]
    known = {value_col, *(c for c in (status_col,) if c), *percent_cols}
    if dimensions is None:
        dim_names = [c for c in tidy.columns if c not in known]
    else:
        dim_names = [d.name for d in dimensions]
        for column in tidy.columns:
            if column not in known and column not in dim_names:
                raise TableError(f"{tidy.source}: unexpected column {column!r}")
    for column in percent_cols:
        if column.removeprefix("percent_") not in dim_names:
            raise TableError(f"{tidy.source}: column {column!r} names no dimension")
    name = table if table is not None else PurePath(tidy.source).stem
    reader = _Reader(tidy, policy, value_col, status_col, percent_cols, dim_names, name)
    cells = reader.read()
    if dimensions is None:
        dimensions = infer_structure(dim_names, {k: c.value for k, c in cells.items()})
    return _Checker(
        tidy.source, policy, list(dimensions), cells, reader.distinct, reader.zeros
    ).run()


class _Reader:
    """Reads rows into cells, interpreting labels as a reader of the table would."""

    def __init__(
        self,
        tidy: TidyFile,
        policy: Policy,
        value_col: str,
        status_col: str | None,
        percent_cols: list[str],
        dim_names: list[str],
        table: str,
    ) -> None:
        self.tidy = tidy
        self.rules = policy.disclosure
        # the zeros rule of the table the file holds (``zeros_by_table``), by the
        # file's name: tables/staff_band_ethnicity.csv is staff_band_ethnicity
        self.zeros = self.rules.primary.zeros_for(table)
        self.value_col = value_col
        self.status_col = status_col
        self.percent_cols = percent_cols
        self.dim_names = dim_names
        labels = self.rules.labels
        # the secondary label means ">= threshold" only if small cells are told apart
        displays = {row[tidy.column(value_col)] for row in tidy.rows}
        self.distinct = status_col is not None or (
            labels.primary != labels.secondary
            and any(d == labels.primary or _LESS_THAN.match(d) for d in displays)
        )

    def read(self) -> dict[tuple[str, ...], _Cell]:
        tidy = self.tidy
        dims = [tidy.column(n) for n in self.dim_names]
        cells: dict[tuple[str, ...], _Cell] = {}
        for fields, row in zip(tidy.rows, tidy.row_numbers, strict=True):
            codes = tuple(fields[i] for i in dims)
            if codes in cells:
                raise TableError(
                    f"{tidy.source}: row {row}: the cell appears more than once"
                )
            status = fields[tidy.column(self.status_col)] if self.status_col else None
            cell = self._cell(fields[tidy.column(self.value_col)], status, row)
            for column in self.percent_cols:
                text = fields[tidy.column(column)]
                cell.percents[column] = self._percent(text, row, column)
            cells[codes] = cell
        return cells

    def _cell(self, text: str, status: str | None, row: int) -> _Cell:
        rules = self.rules
        where = f"{self.tidy.source}: row {row}"
        if status is not None and status not in _STATUSES:
            raise TableError(
                f"{where}: column 'status' is not published, primary or secondary"
            )
        floor = 1.0 if self.zeros == "publish" else 0.0
        top = float(rules.primary.threshold.min_count - 1)
        if _NUMBER.match(text):
            value = float(text)
            if not value.is_integer() or value < 0:
                raise TableError(
                    f"{where}: column {self.value_col!r} is not a whole count"
                )
            if status not in (None, "published"):
                raise TableError(f"{where}: a hidden status with a published number")
            return _Cell(row, value, value, value)
        if status == "published":
            raise TableError(f"{where}: status 'published' but no number")
        less = _LESS_THAN.match(text)
        if text == rules.labels.primary or less or status == "primary":
            upper = float(int(less.group(1)) - 1) if less else top
            return _Cell(row, None, floor, upper, small=True)
        if text == rules.labels.secondary and self.distinct:
            return _Cell(row, None, float(rules.primary.threshold.min_count))
        if text in GENERIC_SYMBOLS or text == rules.labels.secondary or text == "":
            return _Cell(row, None, 0.0, generic=True)
        raise TableError(f"{where}: column {self.value_col!r} holds an unknown symbol")

    def _percent(self, text: str, row: int, column: str) -> tuple[float, int] | None:
        if _NUMBER.match(text):
            return float(text), len(text.partition(".")[2])
        labels = self.rules.labels
        if text in ("", labels.not_computable, labels.secondary, labels.primary) or (
            text in GENERIC_SYMBOLS
        ):
            return None
        raise TableError(
            f"{self.tidy.source}: row {row}: column {column!r} is not a percentage"
        )


class _Checker:
    def __init__(
        self,
        source: str,
        policy: Policy,
        dimensions: list[Dimension],
        cells: dict[tuple[str, ...], _Cell],
        distinct: bool,
        zeros: ZerosMode,
    ) -> None:
        self.source = source
        self.policy = policy
        self.rules = policy.disclosure
        self.zeros = zeros
        self.dimensions = dimensions
        self.cells = cells
        self.distinct = distinct
        self.findings: list[Finding] = []
        for codes, cell in cells.items():
            for dim, code in zip(dimensions, codes, strict=True):
                if code not in dim:
                    row = cell.row
                    raise TableError(
                        f"{source}: row {row}: code {code!r} is not in dimension {dim.name!r}"
                    )

    def _name(self, codes: Sequence[str]) -> str:
        return describe_cell(self.dimensions, codes)

    def run(self) -> CheckResult:
        table = Table(
            "checked",
            self.dimensions,
            np.zeros([len(d.codes) for d in self.dimensions]),
        )
        linked = LinkedSet([table])
        grid = linked.positions["checked"]
        all_codes = list(table.cells())
        index = dict(zip(all_codes, grid.ravel().tolist(), strict=True))
        n = linked.size
        rules = self.rules
        min_count = rules.primary.threshold.min_count
        values = np.zeros(n)
        lower = np.zeros(n)
        upper = np.full(n, np.inf)
        hidden = np.zeros(n, dtype=bool)
        small = np.zeros(n, dtype=bool)
        generic = np.zeros(n, dtype=bool)
        missing = [c for c in all_codes if c not in self.cells]
        for codes in all_codes:
            i = index[codes]
            cell = self.cells.get(codes)
            if cell is None:
                hidden[i] = generic[i] = True
                continue
            if cell.value is None:
                hidden[i] = True
                small[i], generic[i] = cell.small, cell.generic
                lower[i], upper[i] = cell.lower, cell.upper
                continue
            values[i] = lower[i] = upper[i] = cell.value
            too_small = cell.value < min_count and (
                cell.value > 0 or self.zeros != "publish"
            )
            if too_small:
                self._add(
                    "small_cell",
                    codes,
                    f"is published but is below the threshold of {min_count}",
                )
        self._check_published_relations(linked, values, hidden, all_codes)
        if missing:
            self.findings.append(
                Finding(
                    "missing_cells",
                    "note",
                    self._name(missing[0]),
                    f"{len(missing)} cells are absent from the table (read as hidden),"
                    " first this one",
                )
            )
        facts = self._facts(index, hidden)
        needs = small | generic
        # Hidden values are unknown here; any value in the label range serves the model.
        values[hidden] = np.where(
            np.isfinite(upper[hidden]), upper[hidden], lower[hidden]
        )
        problem = ProtectionProblem(
            values=values,
            relations=linked.relations(),
            primary=needs,
            candidate=~needs,
            cost=np.ones(n),
            primary_lower=np.where(needs, lower, 0.0),
            primary_upper=np.where(needs, upper, np.inf),
            secondary_lower=float(min_count) if self.distinct else 0.0,
            protection=np.where(needs, rules.secondary.protection_level.count, 0.0),
            facts=tuple(facts),
            integral=True,
        )
        report = audit(problem, hidden)
        self._judge(
            all_codes, index, report.lower, report.upper, small, generic, hidden
        )
        return CheckResult(
            source=self.source,
            policy_id=self.policy.id,
            policy_sha256=self.policy.sha256,
            cells=n,
            hidden=int(hidden.sum()),
            findings=tuple(self.findings),
        )

    def _add(
        self,
        kind: Kind,
        codes: Sequence[str],
        message: str,
        interval: tuple[float, float] | None = None,
    ) -> None:
        self.findings.append(
            Finding(kind, "unsafe", self._name(codes), message, interval)
        )

    def _check_published_relations(
        self,
        linked: LinkedSet,
        values: FloatArray,
        hidden: BoolArray,
        all_codes: list[tuple[str, ...]],
    ) -> None:
        where = {
            i: c
            for c, i in zip(
                all_codes, linked.positions["checked"].ravel().tolist(), strict=True
            )
        }
        for relation in linked.relations():
            cells = (relation.total, *relation.children)
            if any(hidden[c] for c in cells):
                continue
            if values[relation.total] != sum(values[c] for c in relation.children):
                raise TableError(
                    f"{self.source}: cell {self._name(where[relation.total])} does not equal"
                    " the sum of its published parts"
                )

    def _facts(
        self, index: dict[tuple[str, ...], int], hidden: BoolArray
    ) -> list[LinearFact]:
        """Facts from published percentages, and findings for those over hidden cells."""
        out: list[LinearFact] = []
        for codes, cell in self.cells.items():
            for column, shown in cell.percents.items():
                if shown is None:
                    continue
                axis = next(
                    a
                    for a, d in enumerate(self.dimensions)
                    if d.name == column.removeprefix("percent_")
                )
                parent = self.dimensions[axis].parent(codes[axis])
                if parent is None:
                    continue
                over = (*codes[:axis], parent, *codes[axis + 1 :])
                num, den = index[codes], index[over]
                over_hidden = bool(hidden[num] or hidden[den])
                if over_hidden and self.rules.derived.inherit_suppression:
                    self._add(
                        "derived_over_hidden",
                        codes,
                        f"{column} is published over a hidden count",
                    )
                value, decimals = shown
                half = 0.5 * 10.0**-decimals
                low, high = (value - half) / 100.0, (value + half) / 100.0
                out.append(LinearFact((num, den), (1.0, -low), -1e-9, np.inf))
                out.append(LinearFact((num, den), (1.0, -high), -np.inf, 1e-9))
        return out

    def _judge(
        self,
        all_codes: list[tuple[str, ...]],
        index: dict[tuple[str, ...], int],
        low: FloatArray,
        high: FloatArray,
        small: BoolArray,
        generic: BoolArray,
        hidden: BoolArray,
    ) -> None:
        rules = self.rules
        min_count = rules.primary.threshold.min_count
        floor = 1.0 if self.zeros == "publish" else 0.0
        width = max(rules.secondary.protection_level.count, 1.0)
        inconsistent = False
        for codes in all_codes:
            i = index[codes]
            if not hidden[i]:
                continue
            lo, hi = float(low[i]), float(high[i])
            if np.isnan(lo) or np.isnan(hi):
                if not inconsistent:
                    self._add(
                        "inconsistent",
                        codes,
                        "the labels and published values around this cell contradict"
                        " each other, so the labels say more than they claim",
                    )
                inconsistent = True
                continue
            may_be_small = small[i] or (
                generic[i] and lo <= min_count - 1 and hi >= floor
            )
            if may_be_small and hi - lo < width - 1e-9:
                self._add(
                    "recoverable",
                    codes,
                    f"is hidden, but an intruder can narrow it to {_span(lo, hi)}"
                    f" (the policy needs a width of at least {_fmt(width)})",
                    (lo, hi),
                )
            elif hi - lo < 1e-9 and not may_be_small:
                self.findings.append(
                    Finding(
                        "exact_hidden",
                        "note",
                        self._name(codes),
                        "is hidden but can be worked out exactly (not a small count)",
                        (lo, hi),
                    )
                )


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _span(lo: float, hi: float) -> str:
    return _fmt(lo) if lo == hi else f"{_fmt(lo)} to {_fmt(hi)}"
