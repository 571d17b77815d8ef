"""Reading the store: row conversions, and the reads behind every API call.

Part of the storage zone (``governance.storage``, the only package that touches the
database; this module needs no SQLAlchemy). ``SqlReads`` runs a fixed set of reads as plain SQL
straight through the driver (the token's principal with its grants, releases with
their requests), so the API's hot path builds no statements; ``SqlTransaction``
extends it with everything else. The helpers here turn stored rows into the
service's records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from governance.access import Grant, Principal
from governance.models import (
    ReleaseRecord,
    RequestSummary,
)

# The two reads behind every API call, as fixed SQL for the driver (``%s`` becomes
# SQLite's ``?``): no statement building or result processing per call, and the
# same text each time, which psycopg prepares on the server after a few uses.
_PRINCIPAL_WITH_GRANTS = (
    "SELECT p.id, p.name, p.active, p.token_hash, g.id, g.principal_id, g.role,"
    " g.body, g.valid_from, g.valid_until, g.revoked_at"
    " FROM principals p LEFT OUTER JOIN grants g ON g.principal_id = p.id"
    " WHERE p.token_id = %s ORDER BY g.id"
)
_RELEASED_REQUESTS = (
    "SELECT r.id, r.request_id, r.directory, r.manifest_sha256, r.created_at,"
    " r.revoked_at, q.requester, q.purpose, q.body, q.period, q.state, q.approvals,"
    " q.evidence FROM releases r JOIN requests q ON q.id = r.request_id"
)
_RELEASES_ORDER = " ORDER BY r.created_at, r.id"


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite drops the zone of stored times; everything is stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _stored_time(value: datetime | str | None) -> datetime | None:
    """A time read through the driver: SQLite gives SQLAlchemy's stored text."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def grant_from(
    grant_id: int,
    principal_id: str,
    role: str,
    body: str | None,
    valid_from: datetime | str,
    valid_until: datetime | str | None,
    revoked_at: datetime | str | None,
) -> Grant:
    """A stored grant's columns (in table order) as a ``Grant``."""
    start = _stored_time(valid_from)
    assert start is not None  # noqa: S101 - NOT NULL column
    return Grant(
        principal_id=principal_id,
        role=role,
        body=body,
        valid_from=start,
        valid_until=_stored_time(valid_until),
        revoked_at=_stored_time(revoked_at),
        id=grant_id,
    )


def release_from(
    release_id: str,
    request_id: int,
    directory: str,
    manifest_sha256: str,
    created_at: datetime | str,
    revoked_at: datetime | str | None,
) -> ReleaseRecord:
    """A stored release's columns (in table order) as a ``ReleaseRecord``."""
    created = _stored_time(created_at)
    assert created is not None  # noqa: S101 - NOT NULL column
    return ReleaseRecord(
        release_id,
        request_id,
        directory,
        manifest_sha256,
        created,
        _stored_time(revoked_at),
    )


class SqlReads:
    """The reads behind every API call, as fixed SQL straight through the driver."""

    def __init__(self, driver: Any, dialect: str) -> None:
        self._driver = driver
        self._dialect = dialect

    def principal_by_token(
        self, token_id: str
    ) -> tuple[Principal, str | None, list[Grant]] | None:
        """The token's principal, its stored token hash and its grants (one query)."""
        rows = self._driver_rows(_PRINCIPAL_WITH_GRANTS, (token_id,))
        if not rows:
            return None
        first = rows[0]
        grants = [grant_from(*row[4:11]) for row in rows if row[4] is not None]
        return Principal(first[0], first[1], bool(first[2])), first[3], grants

    def released_requests(
        self, release_id: str | None = None
    ) -> list[tuple[ReleaseRecord, RequestSummary]]:
        """Releases (one, or all) with a summary of their requests, in one query."""
        if release_id is None:
            rows = self._driver_rows(_RELEASED_REQUESTS + _RELEASES_ORDER, ())
        else:
            rows = self._driver_rows(
                _RELEASED_REQUESTS + " WHERE r.id = %s" + _RELEASES_ORDER,
                (release_id,),
            )
        found = []
        for row in rows:
            found.append(
                (
                    release_from(*row[0:6]),
                    RequestSummary(
                        id=row[1], requester=row[6], purpose=row[7], body=row[8],
                        period=row[9], state=row[10],
                        approvals=tuple(str(p) for p, _ in json.loads(row[11])),
                        evidence=row[12],
                    ),
                )
            )  # fmt: skip
        return found

    def _driver_rows(
        self, sql: str, parameters: tuple[object, ...]
    ) -> list[tuple[Any, ...]]:
        """Run fixed SQL (``%s`` marks) through the driver; every row."""
        if self._dialect != "postgresql":
            sql = sql.replace("%s", "?")
        cursor = self._driver.cursor()
        try:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()
