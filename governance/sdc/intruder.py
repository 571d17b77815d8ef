"""The intruder's linear programmes: exact bounds of hidden cells, with certificates.

Owns the attacker model for one hidden pattern: published cells are constants, hidden
cells are variables within the bounds their labels imply, and every relation and fact
holds. An ``Intruder`` first does what any intruder does by hand (a row with one
hidden cell pins it; pinned cells become constants; repeat), then splits the rest
into connected components through the rows. A component with a single row is bounded
exactly by interval arithmetic; larger ones get one HiGHS model each
(``governance.sdc.component_lp``), reused for every cell's minimum and maximum with
only the objective changed (warm starts, each from the kept basis whose vertex
pushed that cell furthest). Every
optimal vertex is kept as a witness: a cell seen at its label bound in any witness
needs no LP for that side.

Each bound can come with a certificate: row multipliers ``pi`` over the whole
constraint system such that the Lagrangian bound with ``pi`` equals the LP value.
``governance.sdc.cuts`` turns certificates into the Benders-style cuts the
suppression methods add. This module never decides what is safe (``attack`` does)
and never chooses cells to hide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.sdc.component_lp import ComponentLP
from governance.sdc.highs import Status
from governance.sdc.leaflp import Change
from governance.sdc.linear import ConstraintSystem, row_components
from governance.sdc.problem import BoolArray, FloatArray, IntArray, ProtectionProblem

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Certificate:
    """Row multipliers ``pi`` on global rows ``rows`` proving one bound."""

    rows: IntArray
    pi: FloatArray


class Intruder:
    """The exact LP attacker for one problem and one hidden pattern."""

    def __init__(
        self, problem: ProtectionProblem, system: ConstraintSystem, hidden: BoolArray
    ) -> None:
        self.problem = problem
        self.system = system
        self.hidden = hidden.copy()
        self.lower, self.upper = problem.hidden_bounds(hidden)
        scale = float(np.max(np.abs(problem.values))) if problem.size else 1.0
        self.tol = 1e-7 * max(1.0, scale)
        self.lp_solves = 0
        self.inconsistent = False
        self._eliminate()
        self._split()
        self._linked = False
        self._lps: dict[int, ComponentLP | None] = {}
        self._lo = np.full(problem.size, np.nan)
        self._hi = np.full(problem.size, np.nan)
        known = ~self.hidden
        self._lo[known] = problem.values[known]
        self._hi[known] = problem.values[known]
        self._lo[self.pinned] = self.pinned_value[self.pinned]
        self._hi[self.pinned] = self.pinned_value[self.pinned]
        self._infeasible_component: set[int] = set()
        self.sink: list[Change] | None = None
        """Where to put every optimal vertex as a change from the true values."""

    # -- by-hand elimination -------------------------------------------------

    def _eliminate(self) -> None:
        """Pin every hidden cell that some equality row determines alone."""
        s = self.system
        n = self.problem.size
        known_value = np.where(self.hidden, 0.0, self.problem.values)
        unknown = self.hidden.copy()
        self.pinned = np.zeros(n, dtype=bool)
        self.pinned_value = np.zeros(n)
        self.pin_row = np.full(n, -1, dtype=np.int64)
        equality = s.is_equality
        while True:
            counts = s.row_counts(unknown)
            rows = np.flatnonzero((counts == 1) & equality)
            if rows.shape[0] == 0:
                break
            entry_mask = np.isin(s.entry_row, rows) & unknown[s.row_cell]
            entries = np.flatnonzero(entry_mask)
            cells = s.row_cell[entries]
            row_of = s.entry_row[entries]
            const = s.activity(known_value)[row_of]
            value = (s.row_lower[row_of] - const) / s.row_coef[entries]
            # A cell pinned by several rows at once: keep the first row, and flag
            # disagreement (the published values contradict the relations).
            order = np.lexsort((row_of, cells))
            cells, row_of, value = cells[order], row_of[order], value[order]
            first = np.ones(cells.shape[0], dtype=bool)
            first[1:] = cells[1:] != cells[:-1]
            starts = np.flatnonzero(first)
            lead = np.repeat(starts, np.diff(np.append(starts, cells.shape[0])))
            if bool(np.any(np.abs(value - value[lead]) > self.tol)):
                self.inconsistent = True
            cells, row_of, value = cells[first], row_of[first], value[first]
            self.pinned[cells] = True
            self.pinned_value[cells] = value
            self.pin_row[cells] = row_of
            known_value[cells] = value
            unknown[cells] = False
        self.known_value = known_value
        self.unknown = unknown
        bad = self.pinned & (
            (self.pinned_value < self.lower - self.tol)
            | (self.pinned_value > self.upper + self.tol)
        )
        rest = s.row_counts(unknown) == 0
        act = s.activity(known_value)
        off = rest & ((act < s.row_lower - self.tol) | (act > s.row_upper + self.tol))
        if bool(np.any(bad)) or bool(np.any(off)):
            self.inconsistent = True

    def _split(self) -> None:
        """Group the remaining unknown cells into components through rows."""
        s = self.system
        self.component = row_components(s, self.unknown)
        self._shift = s.activity(self.known_value)
        entries = np.flatnonzero(self.unknown[s.row_cell])
        comp = self.component[s.row_cell[entries]]
        order = np.argsort(comp, kind="stable")
        self._entries = entries[order]
        self._entry_comp = comp[order]
        labels, first = np.unique(self._entry_comp, return_index=True)
        ends = np.append(first, self._entries.shape[0])[1:].astype(np.int64)
        self._comp_slices = {
            int(c): (int(a), int(b))
            for c, a, b in zip(labels, first, ends, strict=True)
        }
        cells = np.flatnonzero(self.unknown)
        order = np.argsort(self.component[cells], kind="stable")
        cells = cells[order]
        clabels, cfirst = np.unique(self.component[cells], return_index=True)
        cends = np.append(cfirst, cells.shape[0])[1:].astype(np.int64)
        self._comp_cells = {
            int(c): cells[a:b] for c, a, b in zip(clabels, cfirst, cends, strict=True)
        }
        self._parts: dict[int, tuple[IntArray, IntArray, IntArray]] = {}

    def component_size(self, cell: int) -> int:
        """How many unknown hidden cells share ``cell``'s component (its LP's
        columns); 0 for a cell that is not unknown."""
        if not self.unknown[cell]:
            return 0
        return int(self._comp_cells[int(self.component[cell])].shape[0])

    def _link(self) -> None:
        """Tie hidden cells that an equality row with two unknowns relates.

        Such a row makes one cell an affine function of the other on every table
        the intruder cannot rule out (``x_j = a * x_i + b``), so the ends of one
        cell's interval are the images of the other's: one pair of bounds serves
        the whole class. ``_root``, ``_scale`` and ``_offset`` give every unknown
        cell as ``scale * x[root] + offset``; rows are taken in order, and a row
        that closes a cycle adds nothing (the LP already holds it)."""
        s = self.system
        n = self.problem.size
        self._root = np.arange(n, dtype=np.int64)
        self._scale = np.ones(n)
        self._offset = np.zeros(n)
        rows = np.flatnonzero((s.row_counts(self.unknown) == 2) & s.is_equality)
        if rows.shape[0] == 0:
            self._members: dict[int, IntArray] = {}
            return
        parent: dict[int, tuple[int, float, float]] = {}

        def find(cell: int) -> tuple[int, float, float]:
            """Root of ``cell`` and ``(a, b)`` with ``x[cell] = a * x[root] + b``;
            every cell on the way is pointed at the root directly."""
            path = []
            while cell in parent:
                up, pa, pb = parent[cell]
                path.append((cell, pa, pb))
                cell = up
            a, b = 1.0, 0.0
            for node, pa, pb in reversed(path):
                a, b = pa * a, pa * b + pb
                parent[node] = (cell, a, b)
            return cell, a, b

        for r in rows.tolist():
            a0, a1 = int(s.row_start[r]), int(s.row_start[r + 1])
            cells = s.row_cell[a0:a1]
            coef = s.row_coef[a0:a1]
            mine = self.unknown[cells]
            (i, j), (ci, cj) = cells[mine].tolist(), coef[mine].tolist()
            if ci == 0.0 or cj == 0.0:
                continue
            rhs = float(s.row_lower[r] - self._shift[r])
            # ci * x_i + cj * x_j = rhs  ->  x_j = (-ci / cj) * x_i + rhs / cj
            ri, ai, bi = find(int(i))
            rj, aj, bj = find(int(j))
            if ri == rj:
                continue
            alpha, beta = -ci / cj, rhs / cj
            # x_j = aj * x_rj + bj = alpha * (ai * x_ri + bi) + beta
            parent[rj] = (ri, alpha * ai / aj, (alpha * bi + beta - bj) / aj)
        cells = np.flatnonzero(self.unknown)
        for cell in cells.tolist():
            root, a, b = find(cell)
            self._root[cell], self._scale[cell], self._offset[cell] = root, a, b
        linked = cells[self._root[cells] != cells]
        roots = self._root[linked]
        order = np.argsort(roots, kind="stable")
        linked, roots = linked[order], roots[order]
        heads, first = np.unique(roots, return_index=True)
        ends = np.append(first[1:], linked.shape[0])
        self._members = {
            int(h): linked[a:b] for h, a, b in zip(heads, first, ends, strict=True)
        }

    # -- bounds ------------------------------------------------------------

    def _comp_parts(self, comp: int) -> tuple[IntArray, IntArray, IntArray]:
        """Return a component's cells, rows and CSR entries (all sorted)."""
        if comp not in self._parts:
            a, b = self._comp_slices.get(comp, (0, 0))
            entries = np.sort(self._entries[a:b])  # CSR order: by row, then cell
            rows = np.unique(self.system.entry_row[entries])
            self._parts[comp] = (self._comp_cells[comp], rows, entries)
        return self._parts[comp]

    def _lp(self, comp: int) -> ComponentLP | None:
        if comp not in self._lps:
            cells, rows, entries = self._comp_parts(comp)
            if rows.shape[0] <= 1:
                self._lps[comp] = None
            else:
                self._lps[comp] = ComponentLP(
                    cells, rows, entries, self.system, self.lower, self.upper,
                    self._shift,
                )  # fmt: skip
                self._seed_witnesses(comp)
        return self._lps[comp]

    def _record(self, lp: ComponentLP) -> None:
        x = lp.x
        cells = lp.cells
        if self.sink is not None:
            delta = x - self.problem.values[cells]
            moved = np.abs(delta) > self.tol
            self.sink.append(Change(cells[moved].astype(np.int64), delta[moved]))
        at_lo = x <= self.lower[cells] + self.tol
        at_hi = x >= self.upper[cells] - self.tol
        self._lo[cells[at_lo]] = self.lower[cells[at_lo]]
        self._hi[cells[at_hi]] = self.upper[cells[at_hi]]

    def _run(
        self, lp: ComponentLP, index: IntArray, cost: FloatArray, bank: bool = True
    ) -> Status:
        status = lp.optimise(index, cost, bank)
        self.lp_solves += 1
        if status is Status.OPTIMAL:
            self._record(lp)
        return status

    def _seed_witnesses(self, comp: int) -> None:
        """Solve two cheap objectives whose vertices settle many bounds at once."""
        lp = self._lps[comp]
        assert lp is not None  # noqa: S101 - only called right after building it
        k = lp.cells.shape[0]
        everything = np.arange(k, dtype=np.int64)
        status = self._run(lp, everything, np.ones(k))
        if status is Status.INFEASIBLE:
            self._infeasible_component.add(comp)
            self.inconsistent = True
            return
        primary = np.flatnonzero(self.problem.primary[lp.cells])
        if primary.shape[0]:
            self._run(lp, primary.astype(np.int64), -np.ones(primary.shape[0]))

    def _single_row(self, cell: int) -> tuple[float, float]:
        """Exact bounds when the cell's component is one row (interval arithmetic)."""
        s = self.system
        comp = int(self.component[cell])
        _, rows, entries = self._comp_parts(comp)
        if rows.shape[0] == 0:
            return float(self.lower[cell]), float(self.upper[cell])
        r = int(rows[0])
        coef = s.row_coef[entries]
        members = s.row_cell[entries]
        own = float(coef[members == cell][0])
        others = members != cell
        c = -coef[others] / own
        lo_o, up_o = self.lower[members[others]], self.upper[members[others]]
        with np.errstate(invalid="ignore"):
            low = np.where(c > 0, c * lo_o, c * up_o)
            high = np.where(c > 0, c * up_o, c * lo_o)
        low = np.where(c == 0, 0.0, low)
        high = np.where(c == 0, 0.0, high)
        b_lo = (s.row_lower[r] - self._shift[r]) / own
        b_hi = (s.row_upper[r] - self._shift[r]) / own
        if own < 0:
            b_lo, b_hi = b_hi, b_lo
        lo = max(float(self.lower[cell]), b_lo + float(np.sum(low)))
        hi = min(float(self.upper[cell]), b_hi + float(np.sum(high)))
        if lo > hi + self.tol:
            self.inconsistent = True
            self._infeasible_component.add(comp)
            return float("nan"), float("nan")
        return lo, hi

    def bound(self, cell: int, side: int) -> float:
        """Return the exact minimum (side=-1) or maximum (side=+1) of a hidden cell.

        ``nan`` when the cell's component is infeasible (labels contradict values),
        ``inf`` when nothing the intruder knows bounds the cell from above.
        """
        known = self._lo if side < 0 else self._hi
        if not np.isnan(known[cell]):
            return float(known[cell])
        if not self._linked:  # only a bound that needs work pays for the classes
            self._link()
            self._linked = True
        root = int(self._root[cell])
        if root != cell or root in self._members:
            value = self._class_bound(cell, root, side)
            known[cell] = value
            return value
        return self._own_bound(cell, side)

    def _class_bound(self, cell: int, root: int, side: int) -> float:
        """A bound of ``cell`` from its class: the image of any member's bound
        already known on the matching side, else the cell's own, solved."""
        a, b = float(self._scale[cell]), float(self._offset[cell])
        root_side = side if a > 0 else -side
        comp = int(self.component[root])
        self._lp(comp)  # its seeding witnesses may settle a member's bound
        if comp in self._infeasible_component:
            return float("nan")
        members = np.append(self._members.get(root, _EMPTY_I), root)
        scale, offset = self._scale[members], self._offset[members]
        # a member on the root's side where its scale is positive, else the other
        lo_side = (scale > 0) == (root_side < 0)
        seen = np.where(lo_side, self._lo[members], self._hi[members])
        ready = np.flatnonzero(~np.isnan(seen))
        if not ready.shape[0]:
            # solve the cell's own bound: the LP stays near the last one solved
            return self._own_bound(cell, side)
        k = int(ready[0])
        at_root = (float(seen[k]) - float(offset[k])) / float(scale[k])
        return a * at_root + b

    def settle(self, cell: int, side: int, value: float) -> None:
        """Record a bound of ``cell`` proven elsewhere (a witness reaching a bound
        propagation shows cannot be beaten), for the other cells of its class."""
        (self._lo if side < 0 else self._hi)[cell] = value

    def _own_bound(self, cell: int, side: int) -> float:
        """The cell's bound from its own component (interval arithmetic or LP)."""
        known = self._lo if side < 0 else self._hi
        comp = int(self.component[cell])
        lp = self._lp(comp)
        if comp in self._infeasible_component:
            return float("nan")
        if lp is None:
            lo, hi = self._single_row(cell)
            self._lo[cell], self._hi[cell] = lo, hi
            return lo if side < 0 else hi
        if not np.isnan(known[cell]):  # settled by the seeding witnesses
            return float(known[cell])
        local = np.searchsorted(lp.cells, cell)
        status = self._run(
            lp, np.array([local], dtype=np.int64), np.array([side * -1.0])
        )
        if status is Status.OPTIMAL:
            value = float(lp.x[local])
        elif status is Status.UNBOUNDED:
            value = float(np.inf) if side > 0 else float(self.lower[cell])
        else:  # pragma: no cover - HiGHS failing on a feasible bounded LP
            self._infeasible_component.add(comp)
            self.inconsistent = True
            return float("nan")
        known[cell] = value
        return value

    def push(self, cells: IntArray, cost: FloatArray) -> bool:
        """Move ``cells`` (all of one component) at once, each the way its
        ``cost`` sign says (negative: up), by the interior point method; the
        vertex found is kept as a witness. False when the component has no
        model of its own (then there is nothing to push)."""
        comp = int(self.component[int(cells[0])])
        lp = self._lp(comp)
        if lp is None or comp in self._infeasible_component:
            return False
        local = np.searchsorted(lp.cells, cells).astype(np.int64)
        status = lp.optimise(local, cost, bank=False, interior=True)
        self.lp_solves += 1
        if status is Status.OPTIMAL:
            self._record(lp)
        return status is Status.OPTIMAL

    def model_size(self, cell: int) -> int:
        """Hidden cells in the model that would bound ``cell`` (0 when its
        component needs none: a single row)."""
        lp = self._lp(int(self.component[cell]))
        return 0 if lp is None else int(lp.cells.shape[0])

    # -- certificates ------------------------------------------------------

    def certificate(self, cell: int, side: int) -> Certificate:
        """Return row multipliers proving the cell's bound on ``side`` (-1 min, +1 max).

        The multipliers are for the problem ``minimise side' * x[cell]`` with
        ``side' = -side`` for a maximum, over the whole system; the Lagrangian bound
        they give equals the exact bound (for bounded, feasible components).
        """
        if not self.hidden[cell]:
            return Certificate(_EMPTY_I, _EMPTY_F)
        sign = 1.0 if side < 0 else -1.0
        if self.pinned[cell]:
            return self._substitute(Certificate(_EMPTY_I, _EMPTY_F), cell, sign)
        comp = int(self.component[cell])
        lp = self._lp(comp)
        if lp is None:
            _, rows, entries = self._comp_parts(comp)
            if rows.shape[0] == 0:
                return Certificate(_EMPTY_I, _EMPTY_F)
            r = int(rows[0])
            own = float(
                self.system.row_coef[entries][self.system.row_cell[entries] == cell][0]
            )
            pi = Certificate(np.array([r], dtype=np.int64), np.array([sign / own]))
            # The single row alone may be weaker than the cell's own label bound;
            # then the empty certificate (label bound) is the tight one.
            lo, hi = self._single_row(cell)
            at_label = (
                lo <= self.lower[cell] + self.tol
                if side < 0
                else (hi >= self.upper[cell] - self.tol)
            )
            if at_label:
                return Certificate(_EMPTY_I, _EMPTY_F)
            return self._substitute(pi, cell, sign)
        local = np.searchsorted(lp.cells, cell)
        status = self._run(
            lp, np.array([local], dtype=np.int64), np.array([sign]), bank=False
        )
        if status is not Status.OPTIMAL:
            return Certificate(_EMPTY_I, _EMPTY_F)
        duals = lp.model.row_duals()
        keep = duals != 0.0
        return self._substitute(Certificate(lp.rows[keep], duals[keep]), cell, sign)

    def _substitute(self, cert: Certificate, cell: int, sign: float) -> Certificate:
        """Fold pinned cells' rows in, so the certificate uses only label bounds.

        With ``d = sign * e_cell - A.T @ pi``, any pinned cell ``j`` with ``d_j != 0``
        is removed by adding ``d_j / a_rj`` on the row ``r`` that pinned it. A pinned
        cell's row holds only published cells and cells pinned before it, so this
        ends after at most as many rounds as the elimination took.
        """
        s = self.system
        pi = np.zeros(s.n_rows)
        np.add.at(pi, cert.rows, cert.pi)
        while True:
            d = -s.transpose_dot(pi)
            d[cell] += sign
            inner = np.flatnonzero(self.pinned & (np.abs(d) > 1e-12))
            if inner.shape[0] == 0:
                break
            for j in inner:
                r = int(self.pin_row[j])
                a, b = int(s.row_start[r]), int(s.row_start[r + 1])
                own = float(s.row_coef[a:b][s.row_cell[a:b] == j][0])
                pi[r] += d[j] / own
        rows = np.flatnonzero(pi)
        return Certificate(rows.astype(np.int64), pi[rows])
