"""A request's checks: count in the store, protect and audit with the engine.

The only place where a request's raw counts exist: they go from the store
(``Transaction.aggregate_many``) straight into the disclosure engine, and only the
cleared tables and their evidence come out. ``RequestActions`` (submitting a
request) and ``ReleaseActions`` (exporting it, with the approved pattern) call
:func:`clear_request`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from governance.errors import DisclosureError, TableError
from governance.indicators import load_catalogue
from governance.models import RequestRecord
from governance.release_pack import approved_patterns, plan_pack
from governance.sdc.clear import apply
from governance.sdc.evidence import evidence_of
from governance.sdc.pack import Cleared, apply_pack
from governance.sdc.policy import MethodName, Policy
from governance.sdc.table import Dimension, InputCell, Table
from governance.storage.base import Transaction
from governance.tablespec import TableSpec, dimension_hierarchy

Evidence = Literal["pass", "needs_review", "fail"]
#: Share of hidden cells above which an IG officer should look closely.
REVIEW_HIDDEN_SHARE = 0.25
#: A pack of several linked sets is cleared with the fast method: the policy's
#: ``auto`` would run the optimal method (up to ``time_limit`` seconds) on every small
#: set of the pack. Both are audited; the evidence records the method used.
PACK_METHOD: MethodName = "fast"
#: LPs each linked set's pruning may solve when a pack is cleared (the checks run
#: while the analyst waits); past it, a complementary cell is published again only
#: when the tables already found prove it safe to. Counted, not timed, so a pack is
#: cleared the same way on any machine.
PACK_PRUNE_LPS = 500


@dataclass(frozen=True)
class CheckOutcome:
    evidence: Evidence
    evidence_json: str
    digest: str | None
    cleared: Cleared | None
    reasons: tuple[str, ...]


def clear_request(
    tx: Transaction,
    specs: Sequence[TableSpec],
    record: RequestRecord,
    policy: Policy,
    *,
    approved: bool = False,
) -> CheckOutcome:
    """Count in the store, protect and audit with the engine: the checks.

    The tables are grouped into linked sets by population
    (:func:`governance.release_pack.plan_pack`). One linked set of a
    specification file is cleared by :func:`governance.sdc.clear.apply` under
    the policy's method; several, or the tables of a named pack, are a pack
    (:func:`governance.sdc.pack.apply_pack`), cleared with the fast method and
    audited as a whole (a named pack's tables can be many thousand cells, too
    many for the optimal method's time limit while the analyst waits). A named
    pack adds the catalogue's
    percentages, rates and relative likelihoods. With ``approved`` (at export)
    the hidden cells recorded in the request's evidence are audited again on
    the current counts instead of being searched for afresh: what is released
    is what was approved, or the digest differs and the request is checked
    again.
    """
    reasons: list[str] = []
    cleared: Cleared
    try:
        scoped = [_scope(spec, record.body) for spec in specs]
        counts = tx.aggregate_many(scoped, period=record.period)
        counted = [
            (spec, _table(one, leaves))
            for spec, one, leaves in zip(specs, scoped, counts, strict=True)
        ]
        plan = plan_pack(counted, catalogue=load_catalogue() if record.pack else None)
        patterns = (
            approved_patterns(json.loads(record.evidence_json), plan.components)
            if approved and record.evidence_json
            else [None] * len(plan.components)
        )
        if len(plan.components) == 1 and not plan.cross and not record.pack:
            only = plan.components[0]
            cleared = apply(
                only.linked, policy, derived=only.derived, pattern=patterns[0]
            )
        else:
            cleared = apply_pack(
                plan.components,
                policy,
                cross=plan.cross,
                subsets=plan.subsets,
                method=PACK_METHOD,
                prune_lps=PACK_PRUNE_LPS,
                patterns=patterns,
            )
    except (DisclosureError, TableError) as exc:
        outcome = {
            "outcome": "fail",
            "reason": type(exc).__name__,
            "message": str(exc),
        }
        return CheckOutcome(
            "fail", json.dumps(outcome, sort_keys=True), None, None, (str(exc),)
        )
    evidence = evidence_of(cleared)
    hidden = cleared.evidence.primary + cleared.evidence.secondary
    cells = cleared.evidence.cells
    if cells and hidden / cells > REVIEW_HIDDEN_SHARE:
        reasons.append(f"{hidden / cells:.0%} of cells are hidden")
    if any(spec.source == "board" for spec in specs):
        reasons.append("board tables: small groups, check for a motivated intruder")
    if record.body is not None:
        reasons.append("one body's tables: check small teams and senior bands")
    if plan.unlinked:
        reasons.append(
            "tables of a restricted population, not linked to the others: "
            + ", ".join(plan.unlinked)
        )
    result: Evidence = "needs_review" if reasons else "pass"
    digest = _digest([cleared.digest])
    payload = {
        "outcome": result,
        "reasons": reasons,
        "digest": digest,
        "linked_sets": evidence.get("linked_sets", [evidence]),
    }
    if "whole_pack_audit" in evidence:
        payload["whole_pack_audit"] = evidence["whole_pack_audit"]
    return CheckOutcome(
        result,
        json.dumps(payload, sort_keys=True, default=str),
        digest,
        cleared,
        tuple(reasons),
    )


def _scope(spec: TableSpec, body: str | None) -> TableSpec:
    """Restrict a spec to one body when the request is for one body."""
    if body is None:
        return spec
    filters = dict(spec.filters)
    allowed = filters.get("body")
    if allowed is not None and body not in allowed:
        raise TableError(f"table {spec.name!r} is filtered to other bodies than {body}")
    filters["body"] = (body,)
    return spec.model_copy(update={"filters": filters})


def _table(spec: TableSpec, counts: dict[tuple[str, ...], int]) -> Table:
    dimensions = []
    for name in spec.dimensions:
        total, hierarchy = dimension_hierarchy(name, _reference(), spec.codes(name))
        dimensions.append(Dimension(name, total, hierarchy))
    cells = [InputCell(codes, float(count)) for codes, count in counts.items()]
    return Table.from_cells(spec.name, dimensions, cells)  # counts, not magnitudes


def _reference() -> Any:
    from governance.reference import load_reference

    return load_reference()


def _digest(digests: Sequence[str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(list(digests)).encode()).hexdigest()
