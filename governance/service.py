"""The one way in: every CLI command and API call goes through ``Service``.

``Service`` combines the action classes; each opens a transaction per action and
records it in the audit log in that transaction. It returns simple result values and
never prints; progress is reported through optional callbacks.
"""

from __future__ import annotations

import structlog

from audit import generate_signing_key
from governance.models import SYSTEM
from governance.pseudonymise import init_key_dir
from governance.service_access import AccessActions, PrincipalView
from governance.service_audit import AuditVerification, CheckpointResult
from governance.service_core import SIGNING_KEYS, InitResult, ServiceCore
from governance.service_ingest import IngestActions, IngestResult
from governance.service_outputs import OutputActions
from governance.service_requests import RequestInfo

__all__ = [
    "AuditVerification",
    "CheckpointResult",
    "IngestResult",
    "InitResult",
    "PrincipalView",
    "RequestInfo",
    "Service",
    "ServiceCore",
]


log = structlog.get_logger()


class Service(IngestActions, OutputActions, AccessActions):
    """Everything wresgov does, for the CLI and the HTTP API."""

    def init(self, admin: str = "admin") -> InitResult:
        """Create the key directory, keys, the store's schema and the first admin.

        Safe to rerun: existing keys are never overwritten, the schema is upgraded
        in place, and the first admin (and its token) is created only once.
        """
        self.settings.home.mkdir(parents=True, exist_ok=True)
        keys = init_key_dir(self.settings.resolved_key_dir)
        for file_name, key_name in SIGNING_KEYS.values():
            path = keys.path / file_name
            if not path.exists():
                generate_signing_key(path, key_name)
        version = self.store.upgrade()
        with self.store.transaction() as tx:
            self._record(
                tx, SYSTEM, "store.init", outcome="ok", resource=f"schema:{version}"
            )
        admin_token = self.bootstrap_admin(admin)
        log.info("store_initialised", database=self.store.display_url)
        return InitResult(
            home=self.settings.home,
            key_dir=keys.path,
            created_master_key=keys.created_master_key,
            database=self.store.display_url,
            schema_version=version,
            admin_token=admin_token,
        )
