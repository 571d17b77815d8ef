"""Packs: linked sets of several populations cleared together, and checked as one.

A release pack holds tables of several populations (staff in post, shortlisted and
appointed applicants, people entering employee-relations processes, people on
training, board members). Tables of different populations share no additivity
relation, so each population's tables are one :class:`~governance.sdc.linked.LinkedSet`
(a *component*) and :func:`apply_pack` protects each with
:func:`governance.sdc.clear.apply`. What joins them:

- **Derived values across components** (:class:`CrossRate`,
  :class:`CrossLikelihood`, computed in ``governance.sdc.cross``): a rate or a
  relative likelihood built on cells of two populations is published only when
  every count it is built on is published in its own component.
- **Subsets** (:class:`Subset`): people entering a process are among the headcount,
  appointed applicants among the shortlisted, so each cell of the part is at most the
  same cell of the whole. That is known to anyone, so it is part of the attacker's
  knowledge below.
- **The whole-pack audit**: after every component is cleared, the exact attacker
  audit (:func:`governance.sdc.attack.audit`) runs once over all components
  together: every component's relations and published percentages, plus the subset
  inequalities between them. Any unsafe cell refuses the whole pack
  (:class:`~governance.errors.DisclosureError`): nothing is returned.

A :class:`ClearedPack` checks a module-private token in its constructor, so the only
way to hold one is through :func:`apply_pack`. It never holds the true value of a
hidden cell. Pure: values in, values out; it never prints, logs or touches files.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from governance.errors import DisclosureError, TableError
from governance.sdc.audit_memo import AuditMemo
from governance.sdc.clear import (
    ClearedSet,
    ClearedTable,
    _apply,
    build_problem,
    digest_row,
    with_intervals,
)
from governance.sdc.cross import (
    CrossLikelihood,
    CrossRate,
    CrossSpec,
    CrossValues,
    PackCell,
    locate,
)
from governance.sdc.derived import DerivedSpec, DerivedValue, Deriver
from governance.sdc.leaflp import Change
from governance.sdc.linked import LinkedSet, describe_key
from governance.sdc.policy import MethodName, Policy
from governance.sdc.pool import feasible
from governance.sdc.primary import find_primary
from governance.sdc.problem import (
    BoolArray,
    FloatArray,
    LinearFact,
    ProtectionProblem,
    Relation,
)

__all__ = [
    "Cleared",
    "ClearedPack",
    "Component",
    "CrossLikelihood",
    "CrossRate",
    "CrossSpec",
    "PackCell",
    "PackEvidence",
    "Subset",
    "apply_pack",
    "hidden_mask",
    "pack_problem",
]

_TOKEN = object()


@dataclass(frozen=True)
class Component:
    """One population's tables and the derived values within them (percentages)."""

    linked: LinkedSet
    derived: tuple[DerivedSpec, ...] = ()


@dataclass(frozen=True)
class Subset:
    """Every cell of table ``part`` is at most the cell of ``whole`` with its meaning.

    ``part`` and ``whole`` must have the same cells (dimensions and codes), e.g.
    people entering the disciplinary process by body and ethnic group, and the
    headcount by body and ethnic group.
    """

    part: str
    whole: str


@dataclass(frozen=True)
class PackEvidence:
    """What the pack was cleared under, and the whole-pack audit's verdict."""

    policy_id: str
    policy_version: int
    policy_sha256: str
    cells: int
    primary: int
    secondary: int
    subset_facts: int
    unsafe: tuple[dict[str, str], ...]
    lp_solves: int
    seconds_audit: float


class ClearedPack:
    """The cleared components of a pack, the derived values across them, evidence."""

    __slots__ = ("cross", "evidence", "sets")

    def __init__(
        self,
        *,
        sets: tuple[ClearedSet, ...],
        cross: tuple[DerivedValue, ...],
        evidence: PackEvidence,
        token: object,
    ) -> None:
        if token is not _TOKEN:
            raise TypeError("ClearedPack can only be built by apply_pack")
        self.sets = sets
        self.cross = cross
        self.evidence = evidence

    def __repr__(self) -> str:
        return f"ClearedPack({[t.name for t in self.tables]})"

    @property
    def tables(self) -> tuple[ClearedTable, ...]:
        return tuple(t for s in self.sets for t in s.tables)

    @property
    def derived(self) -> tuple[DerivedValue, ...]:
        """Every derived value: each component's, then those across components."""
        return (*(d for s in self.sets for d in s.derived), *self.cross)

    def table(self, name: str) -> ClearedTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def digest(self) -> str:
        """SHA-256 of the published content: every component's digest and ``cross``."""
        content = {
            "sets": [s.digest for s in self.sets],
            "cross": [digest_row(d) for d in self.cross],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


Cleared = ClearedSet | ClearedPack
"""What a release can hold: one cleared linked set, or a cleared pack."""


def hidden_mask(linked: LinkedSet, tables: Sequence[ClearedTable]) -> BoolArray:
    """Which cells of ``linked`` the cleared ``tables`` do not publish.

    Read from the published ``status`` of each row, so it works as well on tables
    read back from a release as on the engine's own output.

    Raises:
        TableError: a table of the set is missing or has another number of rows.
    """
    hidden = np.zeros(linked.size, dtype=bool)
    by_name = {t.name: t for t in tables}
    for table in linked.tables:
        cleared = by_name.get(table.name)
        if cleared is None or len(cleared.cells) != table.size:
            raise TableError(f"table {table.name!r} does not match its linked set")
        where = linked.positions[table.name].ravel()
        hidden[where] |= np.array([c.status != "published" for c in cleared.cells])
    return hidden


def pack_problem(
    components: Sequence[Component],
    policy: Policy,
    hidden: Sequence[BoolArray],
    subsets: Sequence[Subset] = (),
) -> tuple[ProtectionProblem, BoolArray, int]:
    """The attacker's whole-pack model: every component, and the subsets between.

    Returns the problem, the hidden pattern over all its cells and the number of
    subset facts. Each component contributes its cells, relations, label bounds and
    the facts of the percentages it publishes under ``hidden``; a :class:`Subset`
    adds ``part <= whole`` for every cell.

    Raises:
        TableError: a subset names a table that is not in the pack, or tables with
            different cells.
    """
    rules = policy.disclosure
    parts: list[ProtectionProblem] = []
    for component, mask in zip(components, hidden, strict=True):
        linked = component.linked
        deriver = Deriver(linked, rules, component.derived)
        facts = deriver.facts(deriver.published_ratios(mask), mask)
        parts.append(build_problem(linked, rules, find_primary(linked, rules), facts))
    offsets = [int(x) for x in np.cumsum([0, *(p.size for p in parts)])]
    extra: list[LinearFact] = []
    for link in subsets:
        extra += _subset_facts(components, offsets, link)
    return _combine(parts, offsets, extra), np.concatenate(list(hidden)), len(extra)


def _subset_facts(
    components: Sequence[Component], offsets: Sequence[int], link: Subset
) -> list[LinearFact]:
    part_at, whole_at = (
        locate([c.linked for c in components], n) for n in (link.part, link.whole)
    )
    part_set = components[part_at].linked
    whole_set = components[whole_at].linked
    whole_cells = set(np.unique(whole_set.positions[link.whole]).tolist())
    out = []
    for local in np.unique(part_set.positions[link.part]).tolist():
        key = part_set.keys[local]
        try:
            other = whole_set.index_of(key)
        except TableError:
            other = -1
        if other not in whole_cells:
            raise TableError(
                f"subset {link.part!r} of {link.whole!r}: cell {describe_key(key)}"
                " is not in both"
            )
        out.append(
            LinearFact(
                (int(offsets[part_at] + local), int(offsets[whole_at] + other)),
                (1.0, -1.0),
                -math.inf,
                0.0,
            )
        )
    return out


def _combine(
    parts: Sequence[ProtectionProblem],
    offsets: Sequence[int],
    extra: Sequence[LinearFact],
) -> ProtectionProblem:
    def joined(name: str) -> FloatArray:
        return np.concatenate([getattr(p, name) for p in parts])

    def optional(name: str) -> FloatArray | None:
        if all(getattr(p, name) is None for p in parts):
            return None
        return np.concatenate(
            [
                np.zeros(p.size) if getattr(p, name) is None else getattr(p, name)
                for p in parts
            ]
        )

    relations: list[Relation] = []
    facts: list[LinearFact] = []
    for part, offset in zip(parts, offsets, strict=False):
        o = int(offset)
        relations += [
            Relation(r.total + o, tuple(c + o for c in r.children))
            for r in part.relations
        ]
        facts += [
            LinearFact(tuple(c + o for c in f.cells), f.coefficients, f.lower, f.upper)
            for f in part.facts
        ]
    floors = {p.secondary_lower for p in parts}
    return ProtectionProblem(
        values=joined("values"),
        relations=tuple(relations),
        primary=np.concatenate([p.primary for p in parts]),
        candidate=np.concatenate([p.candidate for p in parts]),
        cost=joined("cost"),
        primary_lower=joined("primary_lower"),
        primary_upper=joined("primary_upper"),
        secondary_lower=min(floors),
        protection=joined("protection"),
        facts=(*facts, *extra),
        upper_protection=optional("upper_protection"),
        lower_protection=optional("lower_protection"),
        integral=all(p.integral for p in parts),
    )


#: Whole-pack audits of this process: an export re-audits the approved pattern on
#: recounted tables, the same problem when nothing changed since the checks.
_AUDITS = AuditMemo()


def apply_pack(
    components: Sequence[Component],
    policy: Policy,
    *,
    cross: Sequence[CrossSpec] = (),
    subsets: Sequence[Subset] = (),
    method: MethodName | None = None,
    patterns: Sequence[BoolArray | None] | None = None,
    prune_lps: int | Literal["auto"] | None = "auto",
) -> ClearedPack:
    """Clear every component, derive across them, and audit the whole pack once.

    ``patterns`` gives, per component, the hidden cells of an earlier (approved)
    clearing to audit instead of searching (see :func:`governance.sdc.clear.apply`).
    ``prune_lps`` caps the LPs of each component's pruning
    (:func:`governance.sdc.suppress.protect`). Components are not audited one by
    one: the whole-pack audit knows everything each component's would, and more.

    Raises:
        TableError: no components, a table in two components, or a cross value or
            subset naming a table or cell that is not in the pack.
        DisclosureError: a component cannot be protected, or the whole-pack audit
            finds a cell an intruder could narrow below the protection level.
    """
    if not components:
        raise TableError("a pack needs at least one linked set")
    names = [t.name for c in components for t in c.linked.tables]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise TableError(f"table {dup!r} is in two linked sets of the pack")
    if len({c.linked.kind for c in components}) > 1:
        # the whole-pack audit stands in for each set's own: one kind of table, so
        # its label bounds and rounding are those of every set
        raise TableError("a pack's linked sets must all be counts or all magnitudes")
    given = list(patterns) if patterns is not None else [None] * len(components)
    if len(given) != len(components):
        raise TableError("a pack needs one pattern (or None) per linked set")
    cleared = [
        _apply(
            c.linked,
            policy,
            derived=c.derived,
            method=method,
            progress=None,
            pattern=p,
            prune_lps=prune_lps,
            audited=False,
        )
        for c, p in zip(components, given, strict=True)
    ]
    sets = tuple(s for s, _ in cleared)
    hidden = [
        hidden_mask(c.linked, s.tables) for c, s in zip(components, sets, strict=True)
    ]
    problem, all_hidden, subset_facts = pack_problem(
        components, policy, hidden, subsets
    )
    offsets = np.cumsum([0, *(c.linked.size for c in components)])
    # Each set's tables, moved to the pack's cell numbers, are witnesses for the
    # whole-pack audit where they keep its links and subsets too (checked).
    found = [
        Change(change.cells + offset, change.delta)
        for (_, tables), offset in zip(cleared, offsets[:-1].tolist(), strict=True)
        for change in tables
    ]
    report = _AUDITS.audit(
        problem,
        all_hidden,
        lambda system: feasible(problem, system, all_hidden, found),
    )
    # the audit's own time, also when an identical audit earlier in this process
    # gave the result (a release exported after its checks)
    seconds = report.seconds
    if not report.feasible:
        raise DisclosureError(
            "the whole-pack audit found the tables inconsistent with their labels,"
            " relations or subsets; nothing was cleared"
        )
    if report.unsafe:
        raise DisclosureError(
            f"the whole-pack audit found {len(report.unsafe)} cells that could be"
            " worked out across the pack's linked sets; nothing was cleared"
        )
    # Each set's evidence states what the whole-pack intruder can work out.
    figures = (report.lp_solves, seconds)
    sets = tuple(
        with_intervals(s, c.linked, report.lower[a:b], report.upper[a:b], figures)
        for s, c, a, b in zip(sets, components, offsets[:-1], offsets[1:], strict=True)
    )
    values = CrossValues([c.linked for c in components], hidden, policy)
    primary = int(problem.primary.sum())
    evidence = PackEvidence(
        policy_id=policy.id,
        policy_version=policy.version,
        policy_sha256=policy.sha256,
        cells=problem.size,
        primary=primary,
        secondary=int(all_hidden.sum()) - primary,
        subset_facts=subset_facts,
        unsafe=(),
        lp_solves=report.lp_solves,
        seconds_audit=seconds,
    )
    return ClearedPack(
        sets=sets,
        cross=tuple(values.value(spec) for spec in cross),
        evidence=evidence,
        token=_TOKEN,
    )
