"""The store creates its schema and upgrades an older one in place."""

from __future__ import annotations

import sqlalchemy as sa

from governance.config import Settings
from governance.storage import schema
from governance.storage.sql import SqlStore


def test_upgrade_from_the_first_version(gov_settings: Settings) -> None:
    store = SqlStore(gov_settings.resolved_database_url)
    try:
        with store.engine.begin() as connection:
            schema.schema_meta.create(connection)
            connection.execute(schema.schema_meta.insert().values(id=1, version=0))
            first_version, first_step = schema.MIGRATIONS[0]
            first_step(connection)
            connection.execute(
                schema.schema_meta.update().values(version=first_version)
            )
        assert store.schema_version() == 1
        assert store.upgrade() == schema.LATEST_VERSION
        assert store.schema_version() == schema.LATEST_VERSION
        with store.engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names())
        assert {table.name for table in schema.metadata.sorted_tables} <= names
        # Upgrading again changes nothing.
        assert store.upgrade() == schema.LATEST_VERSION
        with store.transaction() as tx:
            assert tx.audit_head().size == 0
    finally:
        store.dispose()
