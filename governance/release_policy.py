"""The release-workflow rules (``policies/release.yaml``): how many approvals, of what.

Owns :class:`ReleasePolicy`: the number of approvals a request needs before it can be
released (from distinct IG officers, none of them the requester) and which outcomes
of the automated checks a reviewer may approve at all. A failed check can never be
approved: the loader refuses ``fail`` in ``approvable_evidence``. The SHA-256 of the
file travels with it for the audit log and the release manifest.

This module reads the file it is given; it never writes, prints or logs. The state
machine that applies these rules is :mod:`governance.workflow`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeAlias

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from governance.errors import PolicyError
from governance.policy_document import (
    canonical_sha256,
    describe_validation_error,
    read_policy_document,
)
from governance.policy_files import default_policy_dir

Evidence: TypeAlias = Literal["pass", "fail", "needs_review"]
"""The automated checks' overall outcome for a request (ACRO's pass/fail/review)."""
ApprovableEvidence: TypeAlias = Literal["pass", "needs_review"]

RELEASE_POLICY_ID: Final = "release"
MAX_APPROVALS: Final = 5


def _as_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ReleaseSection(_Model):
    approvals_required: int = Field(2, ge=1, le=MAX_APPROVALS)
    """Approvals needed, each from a different IG officer who is not the requester."""
    approvable_evidence: Annotated[
        tuple[ApprovableEvidence, ...], BeforeValidator(_as_tuple)
    ] = ("pass", "needs_review")
    """Outcomes of the automated checks a reviewer may approve."""

    @field_validator("approvable_evidence")
    @classmethod
    def _non_empty_distinct(
        cls, value: tuple[ApprovableEvidence, ...]
    ) -> tuple[ApprovableEvidence, ...]:
        if not value:
            raise ValueError("list at least one of 'pass', 'needs_review'")
        if len(set(value)) != len(value):
            raise ValueError("an outcome is listed twice")
        return value


class ReleasePolicyFile(_Model):
    """The schema of ``policies/release.yaml``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    version: int = Field(ge=1)
    description: str = ""
    release: ReleaseSection = ReleaseSection()


@dataclass(frozen=True)
class ReleasePolicy:
    """Validated release rules and the SHA-256 of the file they came from."""

    document: ReleasePolicyFile
    sha256: str
    source: str

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def approvals_required(self) -> int:
        return self.document.release.approvals_required

    @property
    def approvable_evidence(self) -> frozenset[Evidence]:
        return frozenset(self.document.release.approvable_evidence)


def load_release_policy(policy_dir: Path | None = None) -> ReleasePolicy:
    """Load ``release.yaml`` from a policy directory (default: the shipped one).

    Raises:
        PolicyError: missing, malformed, an unknown key or an invalid value.
    """
    directory = policy_dir if policy_dir is not None else default_policy_dir()
    document = read_policy_document(
        directory / f"{RELEASE_POLICY_ID}.yaml", expected_id=RELEASE_POLICY_ID
    )
    return release_policy_from_mapping(
        document.data, source=document.source, sha256=document.sha256
    )


def release_policy_from_mapping(
    data: Mapping[str, Any], *, source: str = "<memory>", sha256: str | None = None
) -> ReleasePolicy:
    """Validate release rules given as a mapping (the parsed file, or a test's).

    Raises:
        PolicyError: an unknown key or an invalid value.
    """
    try:
        document = ReleasePolicyFile.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyError(f"{source}: {describe_validation_error(exc)}") from None
    if sha256 is None:
        sha256 = canonical_sha256(document.model_dump(mode="json"))
    return ReleasePolicy(document=document, sha256=sha256, source=source)
