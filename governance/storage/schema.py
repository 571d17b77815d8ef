"""Tables of the store, and the ordered migrations that create and upgrade them.

Every schema change is a new numbered migration appended to ``MIGRATIONS``; a store
records the version it is at in ``schema_meta``, and ``upgrade`` applies the missing
steps in one transaction. Records hold pseudonyms and generalised values only: there
is no column for a name, NI number, employee number or date of birth.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

metadata = sa.MetaData()

schema_meta = sa.Table(
    "schema_meta",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

extracts = sa.Table(
    "extracts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org", sa.String(8), nullable=False),
    sa.Column("period", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_accepted", sa.Integer, nullable=False),
    sa.Column("rows_quarantined", sa.Integer, nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("extracts.id"), nullable=True),
    sa.UniqueConstraint("org", "period", "kind", "sha256", name="uq_extract_content"),
)
sa.Index("ix_extracts_scope", extracts.c.org, extracts.c.period, extracts.c.kind)


def _extract_fk() -> sa.Column[int]:
    return sa.Column(
        "extract_id",
        sa.Integer,
        sa.ForeignKey("extracts.id"),
        nullable=False,
        index=True,
    )


def _row() -> sa.Column[int]:
    """Data row number in the source file, for duplicate reports (not personal)."""
    return sa.Column("source_row", sa.Integer, nullable=False)


staff_records = sa.Table(
    "staff_records",
    metadata,
    _extract_fk(),
    _row(),
    sa.Column("person", sa.String(32), nullable=False),
    sa.Column("assignment", sa.String(32), nullable=False),
    sa.Column("ni", sa.String(32), nullable=True),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("ethnic_code", sa.String(2), nullable=False),
    sa.Column("ethnic_broad", sa.String(16), nullable=False),
    sa.Column("wres_group", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("staff_group", sa.String(2), nullable=False),
    sa.Column("clinical", sa.Boolean, nullable=True),
    sa.Column("job_role", sa.String(80), nullable=True),
    sa.Column("occupation_code", sa.String(3), nullable=True),
    sa.Column("pay_band", sa.String(40), nullable=False),
    sa.Column("medical_subgroup", sa.String(40), nullable=True),
    sa.Column("fte", sa.Float, nullable=False),
    sa.Column("contract_type", sa.String(24), nullable=False),
    sa.Column("start_year", sa.Integer, nullable=False),
)

recruitment_records = sa.Table(
    "recruitment_records",
    metadata,
    _extract_fk(),
    _row(),
    sa.Column("applicant", sa.String(32), nullable=False),
    sa.Column("ethnic_code", sa.String(2), nullable=False),
    sa.Column("ethnic_broad", sa.String(16), nullable=False),
    sa.Column("wres_group", sa.String(16), nullable=False),
    sa.Column("post_band", sa.String(40), nullable=False),
    sa.Column("shortlisted", sa.Boolean, nullable=False),
    sa.Column("appointed", sa.Boolean, nullable=False),
)

er_case_records = sa.Table(
    "er_case_records",
    metadata,
    _extract_fk(),
    _row(),
    sa.Column("person", sa.String(32), nullable=False),
    sa.Column("case_type", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("start_month", sa.String(7), nullable=False),
)

training_records = sa.Table(
    "training_records",
    metadata,
    _extract_fk(),
    _row(),
    sa.Column("person", sa.String(32), nullable=False),
    sa.Column("course", sa.String(120), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
)

board_records = sa.Table(
    "board_records",
    metadata,
    _extract_fk(),
    _row(),
    sa.Column("voting", sa.Boolean, nullable=False),
    sa.Column("executive", sa.Boolean, nullable=False),
    sa.Column("ethnic_code", sa.String(2), nullable=False),
    sa.Column("ethnic_broad", sa.String(16), nullable=False),
    sa.Column("wres_group", sa.String(16), nullable=False),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    _extract_fk(),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("field", sa.String(40), nullable=False),
    sa.Column("problem", sa.String(200), nullable=False),
)

RECORD_TABLES: dict[str, sa.Table] = {
    "staff": staff_records,
    "recruitment": recruitment_records,
    "er-cases": er_case_records,
    "training": training_records,
    "board": board_records,
}

FOUNDATION_TABLES = [extracts, *RECORD_TABLES.values(), quarantine]


def _v1(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=FOUNDATION_TABLES)


#: (version, step). Append; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [(1, _v1)]
LATEST_VERSION = MIGRATIONS[-1][0]
