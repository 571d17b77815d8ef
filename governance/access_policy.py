"""The closed set of permissions and the role policy (``policies/access.yaml``).

Owns the permission catalogue (:data:`PERMISSIONS`: every action the service can
authorise, whether it is scoped to an NHS body, and its category), the closed set of
role names (:data:`ROLES`) and the validated role policy (:class:`AccessPolicy`):
which permissions each role holds and whether its grants must, may or must not name a
body. The SHA-256 of the policy file travels with it, so every audit entry can record
the exact rules a decision was made under.

Permissions are defined here, in code, because the service gives each one its meaning
(what ``body`` refers to, which workflow step needs it); the policy file only assigns
them to roles. An unknown permission or role in the file, a role given twice, a
missing role, or an administration permission combined with a data or oversight
permission in one role is refused with a one-line :class:`PolicyError` naming the file
and the key.

This module reads the file it is given; it never writes, prints or logs, and it makes
no decisions (see :mod:`governance.access`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, TypeAlias, TypeGuard, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from governance.errors import PolicyError
from governance.policy_document import (
    canonical_sha256,
    describe_validation_error,
    read_policy_document,
)
from governance.policy_files import default_policy_dir

Permission: TypeAlias = Literal[
    "principal.manage",
    "grant.manage",
    "grant.read",
    "key.manage",
    "extract.ingest",
    "extract.read_quarantine",
    "extract.read_completeness",
    "request.create",
    "request.submit",
    "request.withdraw",
    "request.read_own",
    "request.read_any",
    "request.review",
    "release.export",
    "release.read",
    "release.revoke",
    "release.verify",
    "audit.read",
    "audit.export",
    "audit.verify",
    "audit.checkpoint",
    "check.run",
    "policy.read",
    "catalogue.read",
]
RoleName: TypeAlias = Literal[
    "admin", "data_manager", "analyst", "ig_officer", "publisher", "downstream"
]
Category: TypeAlias = Literal["administration", "data", "oversight", "assurance"]
BodyScope: TypeAlias = Literal["required", "optional", "forbidden"]

ROLES: Final[tuple[RoleName, ...]] = get_args(RoleName)
ACCESS_POLICY_ID: Final = "access"


@dataclass(frozen=True)
class PermissionSpec:
    """What a permission allows, and whether a grant's body limits it."""

    name: Permission
    category: Category
    body_scoped: bool
    """True: the action concerns one body's data (``body`` names it; ``None`` means
    all Wales) and a body-scoped grant covers only its own body."""
    description: str


_ADMIN: Final = "administration"
_DATA: Final = "data"
_OVERSIGHT: Final = "oversight"
_ASSURANCE: Final = "assurance"


def _catalogue(
    *rows: tuple[Permission, Category, bool, str],
) -> Mapping[Permission, PermissionSpec]:
    return MappingProxyType({row[0]: PermissionSpec(*row) for row in rows})


#: Every permission the service can authorise. ``administration`` permissions change
#: who may do what; ``data`` permissions touch extracts, requests or released tables;
#: ``oversight`` permissions decide on requests or read the record of decisions;
#: ``assurance`` permissions read rules or check integrity and reveal no data.
PERMISSIONS: Final = _catalogue(
    ("principal.manage", _ADMIN, False, "add, list and deactivate principals"),
    ("grant.manage", _ADMIN, False, "give and revoke grants of roles"),
    ("grant.read", _OVERSIGHT, False, "list grants, to recertify them"),
    ("key.manage", _ADMIN, False, "create, rotate and export keys"),
    ("extract.ingest", _DATA, True, "ingest an ESR extract for a body"),
    ("extract.read_quarantine", _DATA, True, "read quarantine reports"),
    ("extract.read_completeness", _DATA, True, "read completeness summaries"),
    ("request.create", _DATA, True, "create and amend one's own request"),
    ("request.submit", _DATA, True, "submit one's own request"),
    ("request.withdraw", _DATA, True, "withdraw one's own request"),
    ("request.read_own", _DATA, True, "read one's own requests and evidence"),
    ("request.read_any", _OVERSIGHT, True, "read any request and its evidence"),
    ("request.review", _OVERSIGHT, True, "approve, reject or return a request"),
    ("release.export", _DATA, True, "release and export one's own request"),
    ("release.read", _DATA, True, "read released, unrevoked outputs"),
    ("release.revoke", _OVERSIGHT, True, "revoke a release"),
    ("release.verify", _ASSURANCE, False, "verify a release offline"),
    ("audit.read", _OVERSIGHT, True, "read and filter the audit log"),
    ("audit.export", _OVERSIGHT, True, "export the audit log"),
    ("audit.verify", _ASSURANCE, False, "verify the audit chain"),
    ("audit.checkpoint", _ASSURANCE, False, "sign a checkpoint of the chain head"),
    ("check.run", _ASSURANCE, False, "run the automated disclosure checks"),
    ("policy.read", _ASSURANCE, False, "read policy files"),
    ("catalogue.read", _ASSURANCE, False, "list the tables one may request"),
)

#: Static separation of duties: no role, and no principal through its live grants,
#: may hold a permission of the first category together with one of the second.
#: Whoever manages principals, grants or keys never reads data or decides releases.
CONFLICTING_CATEGORIES: Final[tuple[tuple[Category, Category], ...]] = (
    ("administration", "data"),
    ("administration", "oversight"),
)


def is_permission(name: str) -> TypeGuard[Permission]:
    """Whether ``name`` is one of :data:`PERMISSIONS`."""
    return name in PERMISSIONS


def is_role(name: str) -> TypeGuard[RoleName]:
    """Whether ``name`` is one of :data:`ROLES`."""
    return name in ROLES


def conflicting_permissions(
    permissions: frozenset[Permission],
) -> tuple[Permission, Permission] | None:
    """Return one pair that breaks static separation of duties, or None."""
    for first, second in CONFLICTING_CATEGORIES:
        left = sorted(p for p in permissions if PERMISSIONS[p].category == first)
        right = sorted(p for p in permissions if PERMISSIONS[p].category == second)
        if left and right:
            return left[0], right[0]
    return None


def _known_permission(value: object) -> object:
    if isinstance(value, str) and not is_permission(value):
        raise ValueError(f"unknown permission {value!r}; see docs/access-control.md")
    return value


def _as_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class RoleSpec(_Model):
    """One role: what it is for, whether its grants name a body, what it may do."""

    description: str = Field(min_length=1, max_length=500)
    body_scope: BodyScope
    """``required``: every grant names one body; ``forbidden``: grants are all-Wales
    only; ``optional``: either."""
    permissions: Annotated[
        tuple[Annotated[Permission, BeforeValidator(_known_permission)], ...],
        BeforeValidator(_as_tuple),
    ]

    @field_validator("permissions")
    @classmethod
    def _distinct(cls, value: tuple[Permission, ...]) -> tuple[Permission, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a permission is listed twice")
        return value

    @model_validator(mode="after")
    def _separated(self) -> RoleSpec:
        pair = conflicting_permissions(frozenset(self.permissions))
        if pair is not None:
            raise ValueError(
                f"{pair[0]} ({PERMISSIONS[pair[0]].category}) may not be combined with"
                f" {pair[1]} ({PERMISSIONS[pair[1]].category}) in one role"
            )
        return self


class Roles(_Model):
    """Every role in :data:`ROLES`, each exactly once."""

    admin: RoleSpec
    data_manager: RoleSpec
    analyst: RoleSpec
    ig_officer: RoleSpec
    publisher: RoleSpec
    downstream: RoleSpec


class AccessSection(_Model):
    roles: Roles


class AccessPolicyFile(_Model):
    """The schema of ``policies/access.yaml``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    version: int = Field(ge=1)
    description: str = ""
    access: AccessSection


@dataclass(frozen=True)
class AccessPolicy:
    """A validated role policy and the SHA-256 of the file it came from."""

    document: AccessPolicyFile
    sha256: str
    source: str
    _roles: Mapping[str, RoleSpec] = field(init=False, repr=False, compare=False)
    _permissions: Mapping[str, frozenset[Permission]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        roles = {name: getattr(self.document.access.roles, name) for name in ROLES}
        permissions = {
            name: frozenset(spec.permissions) for name, spec in roles.items()
        }
        object.__setattr__(self, "_roles", MappingProxyType(roles))
        object.__setattr__(self, "_permissions", MappingProxyType(permissions))

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def version(self) -> int:
        return self.document.version

    def role(self, name: str) -> RoleSpec | None:
        """The role called ``name``, or None when the policy has no such role."""
        return self._roles.get(name)

    def permissions_of(self, role: str) -> frozenset[Permission]:
        """The permissions a role holds (none for an unknown role)."""
        return self._permissions.get(role, frozenset())

    def roles_with(self, permission: str) -> tuple[RoleName, ...]:
        """The roles holding ``permission``, in :data:`ROLES` order."""
        return tuple(r for r in ROLES if permission in self._permissions[r])


def load_access_policy(policy_dir: Path | None = None) -> AccessPolicy:
    """Load ``access.yaml`` from a policy directory (default: the shipped one).

    Raises:
        PolicyError: missing, malformed, an unknown or missing key, an unknown
            permission, or roles that break separation of duties.
    """
    directory = policy_dir if policy_dir is not None else default_policy_dir()
    document = read_policy_document(
        directory / f"{ACCESS_POLICY_ID}.yaml", expected_id=ACCESS_POLICY_ID
    )
    return access_policy_from_mapping(
        document.data, source=document.source, sha256=document.sha256
    )


def access_policy_from_mapping(
    data: Mapping[str, Any], *, source: str = "<memory>", sha256: str | None = None
) -> AccessPolicy:
    """Validate a role policy given as a mapping (the parsed file, or a test's).

    Without ``sha256`` the digest is that of the mapping's canonical JSON, so a policy
    built in memory is still pinned by its content.

    Raises:
        PolicyError: as :func:`load_access_policy`.
    """
    try:
        document = AccessPolicyFile.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyError(f"{source}: {describe_validation_error(exc)}") from None
    if sha256 is None:
        sha256 = canonical_sha256(document.model_dump(mode="json"))
    return AccessPolicy(document=document, sha256=sha256, source=source)
