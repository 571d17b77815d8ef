"""Leaf space: every table of a set as sums of its innermost cells.

Owns the change of variables that makes the intruder's system local. A cell that is
never the total of a relation is a *leaf*; every other cell is a sum of leaves
(``X``, built from each total's first relation). A change ``zeta`` to the leaves
changes every cell by ``X @ zeta``, so all relations that define totals hold
automatically; what remains are the *extra* rows: a total's second and later
relations (non-zero only when linked tables share a margin) and published derived
values (``LinearFact``). A table the intruder cannot rule out is then the truth
plus ``X @ zeta`` for any ``zeta`` that is zero on published leaves, sums to zero
over the leaves of every published total, keeps every hidden cell within its label
bounds and satisfies the extra rows.

Seen this way, a deviation that moves a small cell needs only a handful of leaves
(two to sixteen in a four-way table), while the same deviation in cell space runs
through every total above them; neighbourhoods of leaves stay small where
neighbourhoods of cells do not.

This module only builds and queries the map; it never solves anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.linear import ConstraintSystem
from governance.sdc.problem import FloatArray, IntArray, ProtectionProblem


@dataclass(frozen=True)
class LeafSpace:
    """``X`` (cells x leaves) in CSR and CSC form, plus the extra rows."""

    leaves: IntArray
    """Cell index of each leaf, in leaf order."""
    leaf_of_cell: IntArray
    """Leaf index of each cell, or -1 for totals."""
    cell_start: IntArray
    cell_leaf: IntArray
    """Leaves of cell ``c``: ``cell_leaf[cell_start[c]:cell_start[c+1]]`` (CSR)."""
    cell_coef: FloatArray
    leaf_start: IntArray
    leaf_cell: IntArray
    """Cells containing leaf ``l``: ``leaf_cell[leaf_start[l]:leaf_start[l+1]]``."""
    leaf_coef: FloatArray
    extra_start: IntArray
    extra_leaf: IntArray
    extra_coef: FloatArray
    extra_lower: FloatArray
    """Extra rows over leaf changes: ``lower <= sum(coef * zeta) <= upper``."""
    extra_upper: FloatArray
    leaf_extra_start: IntArray
    leaf_extra_row: IntArray
    """Extra rows that involve leaf ``l`` (CSC of the extra rows)."""
    sibling_start: IntArray
    sibling_leaf: IntArray
    """Leaves that share a relation with leaf ``l`` as fellow children."""

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.shape[0])

    @property
    def n_extra(self) -> int:
        return int(self.extra_lower.shape[0])

    def cells_of(self, leaves: IntArray) -> IntArray:
        """Distinct cells containing any of ``leaves`` (sorted)."""
        starts = self.leaf_start[leaves]
        lens = self.leaf_start[leaves + 1] - starts
        out: IntArray = np.unique(self.leaf_cell[_ranges(starts, lens)])
        return out

    def extra_rows_of(self, leaves: IntArray) -> IntArray:
        starts = self.leaf_extra_start[leaves]
        lens = self.leaf_extra_start[leaves + 1] - starts
        out: IntArray = np.unique(self.leaf_extra_row[_ranges(starts, lens)])
        return out

    def leaves_of(self, cells: IntArray) -> IntArray:
        starts = self.cell_start[cells]
        lens = self.cell_start[cells + 1] - starts
        out: IntArray = np.unique(self.cell_leaf[_ranges(starts, lens)])
        return out

    def siblings(self, leaves: IntArray) -> IntArray:
        starts = self.sibling_start[leaves]
        lens = self.sibling_start[leaves + 1] - starts
        out: IntArray = np.unique(self.sibling_leaf[_ranges(starts, lens)])
        return out

    def cell_change(
        self, leaves: IntArray, change: FloatArray
    ) -> tuple[IntArray, FloatArray]:
        """Return ``(cells, X @ zeta)`` for a sparse leaf change, zeros dropped."""
        starts = self.leaf_start[leaves]
        lens = self.leaf_start[leaves + 1] - starts
        idx = _ranges(starts, lens)
        cells, inverse = np.unique(self.leaf_cell[idx], return_inverse=True)
        delta = np.bincount(
            inverse, weights=self.leaf_coef[idx] * np.repeat(change, lens),
            minlength=cells.shape[0],
        )  # fmt: skip
        keep = np.abs(delta) > 1e-9
        return cells[keep].astype(np.int64), delta[keep].astype(np.float64)


def _ranges(starts: IntArray, lens: IntArray) -> IntArray:
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    out: IntArray = np.arange(total, dtype=np.int64) + offsets
    return out


def _csr(
    n_rows: int, rows: IntArray, cols: IntArray, coef: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    order = np.lexsort((cols, rows))
    start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=start[1:])
    return start, cols[order].astype(np.int64), coef[order].astype(np.float64)


def build_leaf_space(
    problem: ProtectionProblem, system: ConstraintSystem
) -> LeafSpace | None:
    """Express every cell as a sum of leaves; None if the relations are cyclic."""
    n = problem.size
    relations = problem.relations
    is_total = np.zeros(n, dtype=bool)
    for relation in relations:
        is_total[relation.total] = True
    leaves = np.flatnonzero(~is_total).astype(np.int64)
    leaf_of_cell = np.full(n, -1, dtype=np.int64)
    leaf_of_cell[leaves] = np.arange(leaves.shape[0])
    rep: dict[int, tuple[IntArray, FloatArray]] = {
        int(c): (np.array([k], dtype=np.int64), np.ones(1))
        for k, c in enumerate(leaves)
    }
    defining: dict[int, int] = {}
    pending = list(range(len(relations)))
    while pending:
        waiting: list[int] = []
        for k in pending:
            relation = relations[k]
            if relation.total in rep:
                continue  # another relation defined it; this one becomes extra
            if not all(c in rep for c in relation.children):
                waiting.append(k)
                continue
            cols = np.concatenate([rep[c][0] for c in relation.children])
            vals = np.concatenate([rep[c][1] for c in relation.children])
            uniq, inv = np.unique(cols, return_inverse=True)
            sums = np.bincount(inv, weights=vals, minlength=uniq.shape[0])
            keep = sums != 0.0
            rep[relation.total] = (uniq[keep].astype(np.int64), sums[keep])
            defining[relation.total] = k
        if len(waiting) == len(pending):
            return None  # no progress: some total depends on itself
        pending = waiting
    # Extra rows: relations that did not define their total, and facts.
    e_rows: list[IntArray] = []
    e_cols: list[IntArray] = []
    e_vals: list[FloatArray] = []
    e_lo: list[float] = []
    e_hi: list[float] = []

    def add_row(cells: list[int], coefs: list[float], lo: float, hi: float) -> None:
        cols = np.concatenate([rep[c][0] for c in cells])
        vals = np.concatenate(
            [rep[c][1] * w for c, w in zip(cells, coefs, strict=True)]
        )
        uniq, inv = np.unique(cols, return_inverse=True)
        sums = np.bincount(inv, weights=vals, minlength=uniq.shape[0])
        keep = np.abs(sums) > 1e-12
        if not bool(np.any(keep)):
            return
        k = len(e_lo)
        e_rows.append(np.full(int(keep.sum()), k, dtype=np.int64))
        e_cols.append(uniq[keep].astype(np.int64))
        e_vals.append(sums[keep].astype(np.float64))
        e_lo.append(lo)
        e_hi.append(hi)

    for k, relation in enumerate(relations):
        if defining.get(relation.total) != k:
            add_row(
                [relation.total, *relation.children],
                [1.0] + [-1.0] * len(relation.children),
                0.0,
                0.0,
            )
    values = problem.values
    for fact in problem.facts:
        shift = float(np.dot(fact.coefficients, values[list(fact.cells)]))
        add_row(
            list(fact.cells),
            list(fact.coefficients),
            fact.lower - shift,
            fact.upper - shift,
        )
    # X in CSR (cells -> leaves) and CSC (leaves -> cells).
    x_rows = np.concatenate(
        [np.full(rep[c][0].shape[0], c, dtype=np.int64) for c in range(n)]
    ) if n else np.zeros(0, np.int64)  # fmt: skip
    x_cols = (
        np.concatenate([rep[c][0] for c in range(n)]) if n else np.zeros(0, np.int64)
    )
    x_vals = np.concatenate([rep[c][1] for c in range(n)]) if n else np.zeros(0)
    cell_start, cell_leaf, cell_coef = _csr(n, x_rows, x_cols, x_vals)
    n_leaves = int(leaves.shape[0])
    leaf_start, leaf_cell, leaf_coef = _csr(n_leaves, x_cols, x_rows, x_vals)
    m = len(e_lo)
    er = np.concatenate(e_rows) if e_rows else np.zeros(0, np.int64)
    ec = np.concatenate(e_cols) if e_cols else np.zeros(0, np.int64)
    ev = np.concatenate(e_vals) if e_vals else np.zeros(0)
    extra_start, extra_leaf, extra_coef = _csr(m, er, ec, ev)
    leaf_extra_start, leaf_extra_row, _ = _csr(n_leaves, ec, er, ev)
    # Siblings: fellow children (that are leaves) of any relation.
    s_a: list[IntArray] = []
    s_b: list[IntArray] = []
    for relation in relations:
        kids = leaf_of_cell[np.array(relation.children, dtype=np.int64)]
        kids = kids[kids >= 0]
        if kids.shape[0] > 1:
            s_a.append(np.repeat(kids, kids.shape[0]))
            s_b.append(np.tile(kids, kids.shape[0]))
    sa = np.concatenate(s_a) if s_a else np.zeros(0, np.int64)
    sb = np.concatenate(s_b) if s_b else np.zeros(0, np.int64)
    keep = sa != sb
    sibling_start, sibling_leaf, _ = _csr(
        n_leaves, sa[keep], sb[keep], np.ones(int(keep.sum()))
    )
    return LeafSpace(
        leaves=leaves,
        leaf_of_cell=leaf_of_cell,
        cell_start=cell_start,
        cell_leaf=cell_leaf,
        cell_coef=cell_coef,
        leaf_start=leaf_start,
        leaf_cell=leaf_cell,
        leaf_coef=leaf_coef,
        extra_start=extra_start,
        extra_leaf=extra_leaf,
        extra_coef=extra_coef,
        extra_lower=np.array(e_lo, dtype=np.float64),
        extra_upper=np.array(e_hi, dtype=np.float64),
        leaf_extra_start=leaf_extra_start,
        leaf_extra_row=leaf_extra_row,
        sibling_start=sibling_start,
        sibling_leaf=sibling_leaf,
    )
