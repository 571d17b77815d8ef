"""Shared inputs for the release tests: a cleared set from the engine, fields, keys."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from audit.events import ChainHead
from audit.keys import SigningKey
from governance.release import Approval, ReleaseInfo
from governance.sdc.clear import ClearedSet, apply
from governance.sdc.derived import RelativeLikelihood, percentages_of, ref
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import Policy, load_policy
from governance.sdc.table import Dimension, InputCell, Table

POLICY: Policy = load_policy("wres-wales")
MOMENT = datetime(2025, 6, 30, 11, 30, 15, tzinfo=UTC)
HEAD = ChainHead(42, bytes(range(32)))

DEPTS = ("Sales", "Ops")
GRADES = ("G1", "G2", "G3")
SITES = ("North", "South")
BY_GRADE = {
    ("Sales", "G1"): 25,
    ("Sales", "G2"): 7,
    ("Sales", "G3"): 30,
    ("Ops", "G1"): 12,
    ("Ops", "G2"): 15,
    ("Ops", "G3"): 18,
}
BY_SITE = {
    ("Sales", "North"): 40,
    ("Sales", "South"): 22,
    ("Ops", "North"): 20,
    ("Ops", "South"): 25,
}


@functools.cache
def cleared_set(
    depts: tuple[str, str] = DEPTS,
    grades: tuple[str, str, str] = GRADES,
    *,
    name: str = "staff_by_grade",
    likelihood: bool = True,
) -> ClearedSet:
    """Two linked tables (dept x grade with percentages, dept x site) and a relative
    likelihood, cleared by the engine; codes are renamed by position."""
    rename_d = dict(zip(DEPTS, depts, strict=True))
    rename_g = dict(zip(GRADES, grades, strict=True))
    dept = Dimension("dept", "Total", {"Total": list(depts)})
    grade = Dimension("grade", "Total", {"Total": list(grades)})
    site = Dimension("site", "Total", {"Total": list(SITES)})
    by_grade = Table.from_cells(
        name,
        [dept, grade],
        [
            InputCell((rename_d[d], rename_g[g]), float(v))
            for (d, g), v in BY_GRADE.items()
        ],
    )
    by_site = Table.from_cells(
        "staff_by_site",
        [dept, site],
        [InputCell((rename_d[d], s), float(v)) for (d, s), v in BY_SITE.items()],
    )
    rl = RelativeLikelihood(
        "g3_sales_vs_ops",
        events_a=ref({"dept": rename_d["Sales"], "grade": rename_g["G3"]}),
        population_a=ref({"dept": rename_d["Sales"]}),
        events_b=ref({"dept": rename_d["Ops"], "grade": rename_g["G3"]}),
        population_b=ref({"dept": rename_d["Ops"]}),
    )
    return apply(
        LinkedSet([by_grade, by_site]),
        POLICY,
        derived=[*percentages_of(by_grade, "grade"), *([rl] if likelihood else [])],
    )


def release_info(**changes: object) -> ReleaseInfo:
    """Release fields for tests; keyword arguments replace any field."""
    fields: dict[str, object] = {
        "release_id": "rel-2025-001",
        "request_id": "req-17",
        "purpose": "Annual WRES report to the board",
        "requester": "analyst-ann",
        "approvals": (
            Approval("ig-bryn", datetime(2025, 6, 29, 9, 0, tzinfo=UTC)),
            Approval("ig-carys", datetime(2025, 6, 29, 10, 0, tzinfo=UTC)),
        ),
        "audit_head": HEAD,
        "created": MOMENT,
        "title": "All Wales",
        "policy_files": {"release.yaml": "ab" * 32},
    }
    fields.update(changes)
    return ReleaseInfo(**fields)  # type: ignore[arg-type]


def signing_key() -> SigningKey:
    return SigningKey.generate("wresgov-release")
