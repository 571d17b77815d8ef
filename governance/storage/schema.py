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


# -- the audit log (docs/audit-log.md) --------------------------------------------

audit_entry = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("time", sa.String(27), nullable=False),
    sa.Column("principal", sa.String(128), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource", sa.String(256), nullable=False),
    sa.Column("body", sa.String(10), nullable=True),
    sa.Column("purpose", sa.String(500), nullable=True),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("policy_sha256", sa.String(64), nullable=True),
    sa.Column("result_digest", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("entry_hash", sa.LargeBinary(32), nullable=False, unique=True),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.LargeBinary(32), nullable=False),
)

AUDIT_TABLES = [audit_entry, audit_head]

_SQLITE_APPEND_ONLY = [
    (
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
    ),
    (
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
    ),
]
_POSTGRESQL_APPEND_ONLY = [
    (
        "CREATE OR REPLACE FUNCTION wresgov_audit_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_entry is append-only'; END $$"
    ),
    (
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION wresgov_audit_append_only()"
    ),
]


# -- principals and grants (docs/access-control.md) -------------------------------

principals = sa.Table(
    "principals",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("token_id", sa.String(8), nullable=True, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "principal_id", sa.String(128), sa.ForeignKey("principals.id"), nullable=False
    ),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("body", sa.String(10), nullable=True),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_by", sa.String(128), nullable=False),
)
sa.Index("ix_grants_principal", grants.c.principal_id)

ACCESS_TABLES = [principals, grants]


# -- requests and releases (docs/release-workflow.md) -----------------------------

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("requester", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(500), nullable=False),
    sa.Column("body", sa.String(10), nullable=True),
    sa.Column("period", sa.Integer, nullable=False),
    sa.Column("pack", sa.String(64), nullable=True),
    sa.Column("tables", sa.Text, nullable=False),  # JSON list of table specs
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("approvals", sa.Text, nullable=False),  # JSON [[principal, time], ...]
    sa.Column("evidence", sa.String(16), nullable=True),
    sa.Column("evidence_json", sa.Text, nullable=True),  # engine evidence, no values
    sa.Column("cleared_digest", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
    sa.Column("directory", sa.Text, nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

RELEASE_TABLES = [requests, releases]


def _v1(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=FOUNDATION_TABLES)


def _v2(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=AUDIT_TABLES)
    connection.execute(audit_head.insert().values(id=1, size=0, head_hash=bytes(32)))
    statements = (
        _POSTGRESQL_APPEND_ONLY
        if connection.dialect.name == "postgresql"
        else _SQLITE_APPEND_ONLY
    )
    for statement in statements:
        connection.exec_driver_sql(statement)


def _v3(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=ACCESS_TABLES)


def _v4(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=RELEASE_TABLES)


#: (version, step). Append; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, Callable[[sa.Connection], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
]
LATEST_VERSION = MIGRATIONS[-1][0]
