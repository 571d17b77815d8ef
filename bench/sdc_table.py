"""Time the table model on a realistic WRES-sized linked set (about 20,000 cells).

Builds body (within type within Wales) x staff group x band x ethnic group counts
from Poisson draws (15,680 cells, and two linked margins), then times: building each table from its leaf cells, linking
three tables that share margins into one set, flattening (cells, relations), the
primary rules, and building the ProtectionProblem. Prints the figures; asserts nothing.

    .venv/bin/python bench/sdc_table.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from governance.sdc.clear import build_problem
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import load_policy
from governance.sdc.primary import find_primary
from governance.sdc.table import Dimension, InputCell, Table

BODY = Dimension(
    "body",
    "Wales",
    {
        "Wales": ["LHB", "Trust", "SHA"],
        "LHB": ["7A1", "7A2", "7A3", "7A4", "7A5", "7A6", "7A7"],
        "Trust": ["RQF", "RT4", "RYT"],
        "SHA": ["HEIW", "DHCW"],
    },
)
STAFF = Dimension("staff_group", "All", {"All": [f"SG{i:02d}" for i in range(1, 10)]})
BAND = Dimension(
    "band",
    "All",
    {"All": ["1", "2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9", "VSM"]},
)
ETHNIC = Dimension(
    "ethnic_group",
    "All",
    {"All": ["White", "Mixed", "Asian", "Black", "Other", "Not stated"]},
)


def timed(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"{label:<38} {now - started:8.3f} s")
    return now


def main() -> None:
    rng = np.random.default_rng(2024)
    dims = [BODY, STAFF, BAND, ETHNIC]
    leaves = list(itertools.product(*(d.leaves for d in dims)))
    people = dict(zip(leaves, rng.poisson(6.0, len(leaves)).tolist(), strict=True))

    def margin(keep: list[int]) -> list[InputCell]:
        sums: dict[tuple[str, ...], int] = {}
        for key, value in people.items():
            sub = tuple(key[i] for i in keep)
            sums[sub] = sums.get(sub, 0) + value
        return [InputCell(k, float(v)) for k, v in sums.items()]

    started = time.perf_counter()
    full = Table.from_cells("body_staff_band_ethnic", dims, margin([0, 1, 2, 3]))
    by_staff = Table.from_cells(
        "body_staff_ethnic", [BODY, STAFF, ETHNIC], margin([0, 1, 3])
    )
    by_band = Table.from_cells("band_ethnic", [BAND, ETHNIC], margin([2, 3]))
    started = timed("build 3 tables from leaf cells", started)
    linked = LinkedSet([full, by_staff, by_band])
    started = timed("link (index every cell)", started)
    relations = linked.relations()
    started = timed("relations", started)
    policy = load_policy("wres-wales")
    primary = find_primary(linked, policy.disclosure)
    problem = build_problem(linked, policy.disclosure, primary)
    problem.check()
    timed("primary rules + ProtectionProblem", started)
    sizes = ", ".join(f"{t.name} {t.size}" for t in linked.tables)
    print(f"tables: {sizes}")
    print(
        f"cells: {linked.size}, relations: {len(relations)}, primary: {int(primary.primary.sum())}"
    )


if __name__ == "__main__":
    main()
