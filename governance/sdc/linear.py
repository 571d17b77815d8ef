"""Sparse form of the intruder's linear knowledge, and connected components.

Owns the translation of a ``ProtectionProblem``'s relations and facts into one
constraint matrix ``row_lower <= A @ values <= row_upper`` (relations first, as
equalities ``total - sum(children) == 0``; facts after them, as ranges), stored both
row-wise and column-wise with numpy arrays, plus the vectorised connected-components
routine the audit and the suppression methods use to split work.

It never solves anything and holds no solver state: numpy in, numpy out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem


@dataclass(frozen=True)
class ConstraintSystem:
    """``row_lower <= A @ x <= row_upper`` in CSR and CSC form."""

    n_cells: int
    n_relations: int
    """Rows ``0 .. n_relations-1`` are relations; the rest are facts."""
    row_start: IntArray
    row_cell: IntArray
    row_coef: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    entry_row: IntArray
    """Row of each CSR entry (``row_cell``'s companion)."""
    col_start: IntArray
    col_row: IntArray
    col_coef: FloatArray
    col_entry: IntArray
    """CSR entry index of each CSC entry."""

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def is_equality(self) -> BoolArray:
        mask: BoolArray = self.row_lower == self.row_upper
        return mask

    def activity(self, x: FloatArray) -> FloatArray:
        """Return ``A @ x``."""
        out = np.bincount(
            self.entry_row,
            weights=self.row_coef * x[self.row_cell],
            minlength=self.n_rows,
        )
        return np.asarray(out, dtype=np.float64)

    def transpose_dot(self, pi: FloatArray) -> FloatArray:
        """Return ``A.T @ pi``."""
        out = np.bincount(
            self.row_cell,
            weights=self.row_coef * pi[self.entry_row],
            minlength=self.n_cells,
        )
        return np.asarray(out, dtype=np.float64)

    def row_counts(self, mask: BoolArray) -> IntArray:
        """Return, per row, how many of its cells are in ``mask``."""
        out: IntArray = np.bincount(
            self.entry_row,
            weights=mask[self.row_cell].astype(np.float64),
            minlength=self.n_rows,
        ).astype(np.int64)
        return out


def build_system(problem: ProtectionProblem) -> ConstraintSystem:
    """Flatten relations and facts into a ``ConstraintSystem``.

    Repeated cells within one row are merged (their coefficients add up) and zero
    coefficients dropped, so every row lists each cell at most once.
    """
    rows: list[IntArray] = []
    cells: list[IntArray] = []
    coefs: list[FloatArray] = []
    for k, relation in enumerate(problem.relations):
        n = len(relation.children) + 1
        rows.append(np.full(n, k, dtype=np.int64))
        cells.append(np.array((relation.total, *relation.children), dtype=np.int64))
        coef = -np.ones(n, dtype=np.float64)
        coef[0] = 1.0
        coefs.append(coef)
    n_rel = len(problem.relations)
    lower = [0.0] * n_rel
    upper = [0.0] * n_rel
    for k, fact in enumerate(problem.facts):
        rows.append(np.full(len(fact.cells), n_rel + k, dtype=np.int64))
        cells.append(np.array(fact.cells, dtype=np.int64))
        coefs.append(np.array(fact.coefficients, dtype=np.float64))
        lower.append(float(fact.lower))
        upper.append(float(fact.upper))
    n_rows = n_rel + len(problem.facts)
    n_cells = problem.size
    if rows:
        row = np.concatenate(rows)
        cell = np.concatenate(cells)
        coef = np.concatenate(coefs)
    else:
        row = np.zeros(0, dtype=np.int64)
        cell = np.zeros(0, dtype=np.int64)
        coef = np.zeros(0, dtype=np.float64)
    # Merge duplicates (row, cell) and drop zeros; the key sorts row-major.
    key = row * max(n_cells, 1) + cell
    unique, inverse = np.unique(key, return_inverse=True)
    merged = np.bincount(inverse, weights=coef, minlength=unique.shape[0])
    keep = merged != 0.0
    unique, merged = unique[keep], merged[keep]
    entry_row = (unique // max(n_cells, 1)).astype(np.int64)
    row_cell = (unique % max(n_cells, 1)).astype(np.int64)
    row_start = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry_row, minlength=n_rows), out=row_start[1:])
    order = np.lexsort((entry_row, row_cell))
    col_start = np.zeros(n_cells + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_cell, minlength=n_cells), out=col_start[1:])
    return ConstraintSystem(
        n_cells=n_cells,
        n_relations=n_rel,
        row_start=row_start,
        row_cell=row_cell,
        row_coef=merged.astype(np.float64),
        row_lower=np.array(lower, dtype=np.float64),
        row_upper=np.array(upper, dtype=np.float64),
        entry_row=entry_row,
        col_start=col_start,
        col_row=entry_row[order],
        col_coef=merged[order].astype(np.float64),
        col_entry=order.astype(np.int64),
    )


def connected_components(n: int, u: IntArray, v: IntArray) -> IntArray:
    """Label the connected components of the graph ``(range(n), zip(u, v))``.

    Returns, for each node, the smallest node index in its component. Vectorised
    hook-and-compress (Shiloach-Vishkin style): each round hooks every edge's larger
    root onto the smaller one and then compresses paths by pointer jumping.
    """
    parent = np.arange(n, dtype=np.int64)
    if u.shape[0] == 0:
        return parent
    while True:
        pu, pv = parent[u], parent[v]
        low = np.minimum(pu, pv)
        changed = pu != pv
        if not bool(np.any(changed)):
            return parent
        np.minimum.at(parent, np.maximum(pu, pv)[changed], low[changed])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def row_components(system: ConstraintSystem, active: BoolArray) -> IntArray:
    """Label active cells by the component they share through rows.

    Two active cells are linked when some row contains both. Inactive cells get
    label -1; active cells the smallest active cell index of their component.
    """
    entries = np.flatnonzero(active[system.row_cell])
    rows = system.entry_row[entries]
    cells = system.row_cell[entries]
    # Link each active entry to the first active entry of its row.
    first = np.ones(entries.shape[0], dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    head = np.maximum.accumulate(np.where(first, np.arange(entries.shape[0]), 0))
    labels = connected_components(system.n_cells, cells, cells[head])
    out: IntArray = np.where(active, labels, -1)
    return out
