"""The service core: settings, store, keys, policies and the audit helpers.

Every action class (``service_ingest``, ``service_audit``...) builds on
``ServiceCore``; ``governance.service.Service`` combines them. Each action opens one
transaction and appends its audit entry in it, so an action either happens with its
record or not at all.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, TypedDict

import structlog
import yaml
from pydantic import ValidationError
from typing_extensions import Unpack

from audit import (
    AuditKeyError,
    DetailValue,
    Outcome,
    SigningKey,
    format_time,
    load_signing_key,
)
from governance import auditing
from governance.access import Subject as Caller
from governance.access_policy import AccessPolicy, load_access_policy
from governance.audit_batch import AuditBatcher
from governance.config import Settings
from governance.errors import AccessDeniedError, ConfigError, PolicyError
from governance.ingest import IngestPolicy
from governance.models import Actor
from governance.policy_files import default_policy_dir
from governance.pseudonymise import (
    Pseudonymiser,
    load_master_key,
)
from governance.reference import Reference, load_reference
from governance.storage.base import Transaction
from governance.storage.sql import SqlStore

log = structlog.get_logger()

Clock = Callable[[], datetime]


class EntryFields(TypedDict, total=False):
    """What an audit entry says besides who, what and the outcome."""

    resource: str
    body: str | None
    purpose: str | None
    policy_sha256: str | None
    result_digest: str | None
    detail: Mapping[str, DetailValue] | None


#: purpose -> (file in the key directory, key name in signatures)
SIGNING_KEYS: Final[dict[str, tuple[str, str]]] = {
    "audit": ("audit-signing.key", "wresgov-audit"),
    "release": ("release-signing.key", "wresgov-release"),
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class InitResult:
    home: Path
    key_dir: Path
    created_master_key: bool
    database: str
    schema_version: int
    admin_token: str | None
    """The first admin's token, when this init created the first admin (shown once)."""


class ServiceCore:
    """Settings, keys, reference data, policies, the store and audit recording."""

    def __init__(self, settings: Settings, *, clock: Clock = _utc_now) -> None:
        self.settings = settings
        self._clock = clock
        self._store: SqlStore | None = None
        self._access_policy: AccessPolicy | None = None
        self._batcher: AuditBatcher | None = None
        self._batcher_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            if self.settings.database_url is None:
                self.settings.home.mkdir(parents=True, exist_ok=True)
            self._store = SqlStore(self.settings.resolved_database_url)
        return self._store

    def close(self) -> None:
        with self._batcher_lock:
            batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.close()
        if self._store is not None:
            self._store.dispose()
            self._store = None

    @property
    def reference(self) -> Reference:
        return load_reference()

    def policy_dir(self) -> Path:
        return self.settings.policy_dir or default_policy_dir()

    def ingest_policy(self) -> IngestPolicy:
        """Load ``ingest.yaml`` from the policy directory.

        Raises:
            PolicyError: the file is missing, not YAML, or has unknown keys.
        """
        return self.ingest_policy_with_hash()[0]

    def ingest_policy_with_hash(self) -> tuple[IngestPolicy, str]:
        """The ingest policy and the SHA-256 of its file (recorded on every ingest)."""
        path = self.policy_dir() / "ingest.yaml"
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw.decode("utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"{path}: ingest policy not found") from None
        except (yaml.YAMLError, UnicodeDecodeError):
            raise PolicyError(f"{path}: not valid YAML") from None
        try:
            return IngestPolicy.model_validate(data), hashlib.sha256(raw).hexdigest()
        except ValidationError as exc:
            bad = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or '(file)'}: {err['msg']}"
                for err in exc.errors(include_input=False)
            )
            raise PolicyError(f"{path}: {bad}") from None

    def access_policy(self) -> AccessPolicy:
        """The role policy (``access.yaml``), loaded once per service."""
        if self._access_policy is None:
            self._access_policy = load_access_policy(self.policy_dir())
        return self._access_policy

    def _authorise(
        self,
        caller: Caller,
        permission: str,
        *,
        action: str,
        body: str | None = None,
        resource: str = "-",
        purpose: str | None = None,
    ) -> Actor:
        """Decide; on a denial record it (own transaction) and raise.

        Returns who is acting, in the role of the grant that allowed it, for the
        action's own audit entry (written in the action's transaction).

        Raises:
            AccessDeniedError: deny by default; the reason is machine-readable.
        """
        decision = caller.decide(permission, body=body)
        who = Actor(caller.id, decision.role or "none", body)
        if not decision.allowed:
            self._record_failure(
                who,
                action,
                outcome="deny",
                resource=resource,
                body=body,
                purpose=purpose,
                policy_sha256=decision.policy_sha256,
                detail={"permission": permission, "reason": decision.reason},
            )
            raise AccessDeniedError(
                f"access denied: {decision.describe()}",
                permission=permission,
                reason=decision.reason,
            )
        return who

    # -- the audit log --------------------------------------------------------------

    def _record(
        self,
        tx: Transaction,
        actor: Actor,
        action: str,
        *,
        outcome: Outcome = "allow",
        **fields: Unpack[EntryFields],
    ) -> None:
        """Append one entry in ``tx``: if it cannot be written, the action fails."""
        tx.append_audit(
            lambda: [
                auditing.event(actor, action, outcome, now=self._clock(), **fields)
            ],
            auditing.RULES,
        )

    def _record_failure(
        self,
        actor: Actor,
        action: str,
        *,
        outcome: Outcome = "error",
        **fields: Unpack[EntryFields],
    ) -> None:
        """Record a denied or failed action in its own transaction (after rollback)."""
        self._record_read(actor, action, outcome=outcome, **fields)

    def _record_read(
        self,
        actor: Actor,
        action: str,
        *,
        outcome: Outcome = "allow",
        **fields: Unpack[EntryFields],
    ) -> None:
        """Record an action that wrote nothing else (a read, a denial, a failure).

        Returns once the entry is committed; concurrent callers share transactions
        (``governance.audit_batch``). Raises, and the caller returns nothing, if the
        entry cannot be written.
        """
        event = auditing.event(actor, action, outcome, now=self._clock(), **fields)
        with self._batcher_lock:
            if self._batcher is None:
                self._batcher = AuditBatcher(
                    self.store.transaction,
                    auditing.RULES,
                    lambda: format_time(self._clock()),
                )
            batcher = self._batcher
        batcher.record(event)

    def signing_key(self, purpose: Literal["audit", "release"]) -> SigningKey:
        """Load the Ed25519 key that signs audit checkpoints or release manifests.

        Raises:
            ConfigError: the key file is missing or readable by others.
        """
        file_name, key_name = SIGNING_KEYS[purpose]
        path = self.settings.resolved_key_dir / file_name
        try:
            return load_signing_key(path, key_name)
        except FileNotFoundError:
            raise ConfigError(f"no {purpose} signing key; run `wresgov init`") from None
        except AuditKeyError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def _pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(load_master_key(self.settings.resolved_key_dir))

    # -- actions --------------------------------------------------------------------

    def check_store(self) -> None:
        """Raise ConfigError unless the store exists at the current schema version."""
        version = self.store.schema_version()
        if version is None:
            raise ConfigError("no wresgov store here; run `wresgov init` first")
