"""Count tables computed in the store: one ``GROUP BY`` per population.

Records never leave the database: the table specifications (``governance.tablespec``)
that count one population (the same source and measure) become one SQL query over
the *active* extracts of a period, grouped by every column they break down or filter
by, and only those group counts come back; each spec's leaf counts are sums of them.
SQLite and PostgreSQL run the same SQLAlchemy expression, so they give identical
results (``tests/integration/test_aggregate.py`` checks it).

Populations (docs/indicators.md):

- ``headcount``: staff in post at 31 March on a permanent or fixed-term contract
  (bank, locum and honorary assignments are not staff in post), each person once per
  body at their primary assignment (the highest FTE; ties broken by the assignment
  pseudonym, so the choice is stable);
- ER cases and training: distinct people of that headcount population with a formal
  case of the type (any stage but informal) or with non-mandatory training in the
  reporting year; their ethnicity and post come from the staff record. People not
  in the 31 March snapshot (leavers) are not counted: the rate's numerator and
  denominator must be the same population;
- recruitment: applications (one row per applicant and post band) shortlisted or
  appointed, so every unit lies in exactly one cell of every breakdown;
- board: board members who are voting / executive members.

Raw counts are disclosive: this module returns them only to the service, which
passes them straight to the disclosure engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from governance.errors import TableError
from governance.storage import schema
from governance.tablespec import DimensionName, TableSpec

STAFF_IN_POST = ("Permanent", "Fixed Term Temp")
FORMAL_STAGES_EXCLUDE = ("Informal",)

LeafCounts = dict[tuple[str, ...], int]


def _active(kind: str, period: int, body: str | None) -> sa.Subquery:
    extracts = schema.extracts
    query = sa.select(extracts.c.id, extracts.c.org).where(
        extracts.c.kind == kind,
        extracts.c.period == period,
        extracts.c.status == "active",
    )
    if body is not None:
        query = query.where(extracts.c.org == body)
    return query.subquery(f"active_{kind.replace('-', '_')}")


def _staff_population(period: int, body: str | None) -> sa.Subquery:
    """One row per person and body: their primary assignment's attributes."""
    staff = schema.staff_records
    active = _active("staff", period, body)
    ranked = (
        sa.select(
            staff.c.person,
            active.c.org.label("body"),
            staff.c.wres_group,
            staff.c.ethnic_broad,
            staff.c.pay_band,
            staff.c.staff_group,
            staff.c.clinical,
            staff.c.medical_subgroup,
            sa.func.row_number()
            .over(
                partition_by=(active.c.org, staff.c.person),
                order_by=(staff.c.fte.desc(), staff.c.assignment),
            )
            .label("rank"),
        )
        .join(active, staff.c.extract_id == active.c.id)
        .where(staff.c.contract_type.in_(STAFF_IN_POST))
        .subquery("ranked")
    )
    return (
        sa.select(*(c for c in ranked.c if c.name != "rank"))
        .where(ranked.c.rank == 1)
        .subquery("staff_population")
    )


def _people_with(spec: TableSpec, period: int, body: str | None) -> sa.Subquery:
    """The headcount population restricted to people with a case or training."""
    people = _staff_population(period, body)
    if spec.source == "er-cases":
        events = schema.er_case_records
        case_type = (
            "disciplinary"
            if spec.measure == "people_entering_disciplinary"
            else "capability"
        )
        conditions = [
            events.c.case_type == case_type,
            events.c.stage.not_in(FORMAL_STAGES_EXCLUDE),
        ]
    else:
        events = schema.training_records
        conditions = []
    active = _active(spec.source, period, body)
    having = (
        sa.select(events.c.person, active.c.org.label("body"))
        .join(active, events.c.extract_id == active.c.id)
        .where(*conditions)
        .distinct()
        .subquery("with_event")
    )
    return (
        sa.select(people)
        .join(
            having,
            sa.and_(having.c.person == people.c.person, having.c.body == people.c.body),
        )
        .subquery("people_with_event")
    )


def _recruitment_population(
    spec: TableSpec, period: int, body: str | None
) -> sa.Subquery:
    rows = schema.recruitment_records
    active = _active("recruitment", period, body)
    flag = (
        rows.c.shortlisted
        if spec.measure == "applicants_shortlisted"
        else rows.c.appointed
    )
    return (
        sa.select(
            active.c.org.label("body"),
            rows.c.wres_group,
            rows.c.ethnic_broad,
            rows.c.post_band.label("pay_band"),
        )
        .join(active, rows.c.extract_id == active.c.id)
        .where(flag.is_(True))
        .subquery("recruitment_population")
    )


def _board_population(spec: TableSpec, period: int, body: str | None) -> sa.Subquery:
    rows = schema.board_records
    active = _active("board", period, body)
    flag = rows.c.voting if spec.measure == "board_voting" else rows.c.executive
    return (
        sa.select(active.c.org.label("body"), rows.c.wres_group, rows.c.ethnic_broad)
        .join(active, rows.c.extract_id == active.c.id)
        .where(flag.is_(True))
        .subquery("board_population")
    )


def _population(spec: TableSpec, period: int, body: str | None) -> sa.Subquery:
    if spec.source == "staff":
        return _staff_population(period, body)
    if spec.source in ("er-cases", "training"):
        return _people_with(spec, period, body)
    if spec.source == "recruitment":
        return _recruitment_population(spec, period, body)
    return _board_population(spec, period, body)


def _column(population: sa.Subquery, name: DimensionName) -> sa.ColumnElement[Any]:
    if name == "clinical":
        clinical = population.c.clinical
        return sa.case(
            (clinical.is_(True), sa.literal("clinical")),
            (clinical.is_(False), sa.literal("non-clinical")),
            else_=sa.null(),
        )
    return population.c[name]


def aggregate(
    connection: sa.Connection, spec: TableSpec, *, period: int, body: str | None
) -> LeafCounts:
    """Leaf counts of ``spec`` for ``period`` (optionally one body), zeros included.

    Raises:
        TableError: a record of the population has a code outside an unfiltered
            dimension (the spec needs a filter); the dimension is named, not the code.
    """
    return aggregate_many(connection, [spec], period=period, body=body)[0]


def aggregate_many(
    connection: sa.Connection,
    specs: Sequence[TableSpec],
    *,
    period: int,
    body: str | None,
) -> list[LeafCounts]:
    """Leaf counts of every spec, in order: one query per population, not per spec.

    Specs counting the same population (the same source and measure: every staff
    table is the 31 March headcount) share one ``GROUP BY`` over every column any of
    them breaks down or filters by; each spec's counts are then sums of those groups,
    the same numbers its own query would give. The population's window function
    (each person's primary assignment) runs once instead of once per table.

    Raises:
        TableError: as :func:`aggregate`, for the first spec in order that fails.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for k, spec in enumerate(specs):
        groups.setdefault((spec.source, spec.measure), []).append(k)
    fine: dict[int, tuple[tuple[str, ...], list[tuple[Any, ...]]]] = {}
    for members in groups.values():
        # a filter every spec of the group has is applied in SQL, not grouped by
        shared = {
            name: codes
            for name, codes in specs[members[0]].filters.items()
            if all(specs[k].filters.get(name) == codes for k in members)
        }
        names = tuple(
            dict.fromkeys(
                name
                for k in members
                for name in (*specs[k].dimensions, *specs[k].filters)
                if name in specs[k].dimensions or name not in shared
            )
        )
        population = _population(specs[members[0]], period, body)
        columns = [_column(population, name).label(name) for name in names]
        query = sa.select(*columns, sa.func.count().label("n")).select_from(population)
        for name, codes in shared.items():
            query = query.where(_column(population, name).in_(codes))
        query = query.group_by(*columns)
        rows = [tuple(row) for row in connection.execute(query)]
        for k in members:
            fine[k] = (names, rows)
    return [_marginal(spec, *fine[k]) for k, spec in enumerate(specs)]


def _marginal(
    spec: TableSpec, names: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> LeafCounts:
    """``spec``'s leaf counts from groups over ``names`` (each row ends in its count)."""
    where = {name: i for i, name in enumerate(names)}
    dims = [where[name] for name in spec.dimensions]
    # filters on columns not grouped by were applied by the query itself
    filters = [
        (where[name], frozenset(codes))
        for name, codes in spec.filters.items()
        if name in where
    ]
    leaves = {name: spec.codes(name) for name in spec.dimensions}
    counts: LeafCounts = dict.fromkeys(
        itertools.product(*(leaves[name] for name in spec.dimensions)), 0
    )
    known = {name: frozenset(codes) for name, codes in leaves.items()}
    for row in rows:
        if any(row[i] not in codes for i, codes in filters):
            continue
        codes = tuple(row[i] for i in dims)
        for name, code in zip(spec.dimensions, codes, strict=True):
            if code not in known[name]:
                raise TableError(
                    f"table {spec.name!r}: a record has a {name} outside the table's "
                    "codes; restrict the population with a filter"
                )
        counts[codes] += int(row[-1])
    return counts
