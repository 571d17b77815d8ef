"""A cleared set's or pack's evidence as plain data and as the JSON written beside it.

``wresgov-evidence/1`` (docs/table-formats.md): the policy's id, version and
SHA-256, the method, the tables' digests, the audit's verdict and every hidden
cell's interval (never its value), and the derived values as published. A pack's
(``wresgov-pack-evidence/1``) holds each set's, the values derived across them
and the whole-pack audit's verdict.
"""

from __future__ import annotations

import json
import math

from governance.sdc.clear import ClearedSet, Evidence
from governance.sdc.derived import DerivedValue
from governance.sdc.pack import Cleared, ClearedPack, PackEvidence

EVIDENCE_FORMAT = "wresgov-evidence/1"
PACK_EVIDENCE_FORMAT = "wresgov-pack-evidence/1"


def _number(value: float) -> float | int | None:
    if math.isinf(value) or math.isnan(value):
        return None
    return int(value) if float(value).is_integer() else round(value, 6)


def derived_entry(value: DerivedValue) -> dict[str, str]:
    """A derived value as the evidence lists it (name, kind, status, display)."""
    entry = {
        "name": value.name,
        "kind": value.kind,
        "status": value.status,
        "display": value.display,
    }
    if value.interval_display:
        entry["interval"] = value.interval_display
    return entry


def _policy(ev: Evidence | PackEvidence) -> dict[str, object]:
    """The policy a set or pack was cleared under: id, version and SHA-256."""
    return {
        "id": ev.policy_id,
        "version": ev.policy_version,
        "sha256": ev.policy_sha256,
    }


def evidence_mapping(cleared: ClearedSet) -> dict[str, object]:
    """The evidence as plain data (what :func:`render_evidence` writes)."""
    ev = cleared.evidence
    return {
        "format": EVIDENCE_FORMAT,
        "policy": _policy(ev),
        "method": {"requested": ev.method_requested, "used": ev.method_used},
        "measure": ev.measure,
        "digest": cleared.digest,
        "tables": [
            {
                "name": t.name,
                "dimensions": [d.name for d in t.dimensions],
                "rows": len(t.cells),
                "sha256": t.digest(),
            }
            for t in cleared.tables
        ],
        "cells": ev.cells,
        "primary": ev.primary,
        "secondary": ev.secondary,
        "audit": {
            "safe": not ev.unsafe,
            "unsafe": list(ev.unsafe),
            "lp_solves": ev.lp_solves,
            "hidden": [
                {
                    "cell": h.cell,
                    "tables": list(h.tables),
                    "status": h.status,
                    "interval": [_number(h.lower), _number(h.upper)],
                }
                for h in ev.hidden
            ],
        },
        "derived": [derived_entry(d) for d in cleared.derived],
        "seconds": {
            "protect": round(ev.seconds_protect, 3),
            "audit": round(ev.seconds_audit, 3),
        },
    }


def render_evidence(cleared: ClearedSet) -> str:
    """The evidence JSON: policy id and SHA-256, method, intervals, never a hidden value."""
    return json.dumps(evidence_mapping(cleared), indent=2, ensure_ascii=False) + "\n"


def _pack_mapping(pack: ClearedPack) -> dict[str, object]:
    ev = pack.evidence
    return {
        "format": PACK_EVIDENCE_FORMAT,
        "policy": _policy(ev),
        "digest": pack.digest,
        "linked_sets": [evidence_mapping(s) for s in pack.sets],
        "cross_derived": [derived_entry(d) for d in pack.cross],
        "whole_pack_audit": {
            "safe": not ev.unsafe,
            "cells": ev.cells,
            "primary": ev.primary,
            "secondary": ev.secondary,
            "subset_facts": ev.subset_facts,
            "unsafe": list(ev.unsafe),
            "lp_solves": ev.lp_solves,
            "seconds": round(ev.seconds_audit, 3),
        },
    }


def evidence_text(cleared: Cleared) -> str:
    """The evidence JSON of a cleared set or pack; never a hidden value."""
    if isinstance(cleared, ClearedSet):
        return render_evidence(cleared)
    return json.dumps(_pack_mapping(cleared), indent=2, ensure_ascii=False) + "\n"


def evidence_of(cleared: Cleared) -> dict[str, object]:
    """The evidence as plain data, for the request record."""
    if isinstance(cleared, ClearedSet):
        return evidence_mapping(cleared)
    return _pack_mapping(cleared)
