"""Policy files: what the disclosure engine must do, as validated data.

A policy is one file in ``policies/`` (YAML, or TOML), referred to by its id (the
file stem) or by path. The file is sectioned: a header (``id``, ``version``,
``description``) and a ``disclosure:`` section with the primary rules, the
secondary (complementary) suppression settings, the labels and the derived-value
rules. Later sections (``access:`` for roles, ``release:`` for the release workflow)
are added as further typed, optional fields of :class:`PolicyFile`; until a section is
defined here it is refused like any other unknown key. One file and one SHA-256 then
pin every rule a release was made under. ``docs/policy-reference.md`` documents every
key (a test checks it).

Every model is frozen with ``extra="forbid"``: an unknown or misspelt key is refused
with a one-line :class:`PolicyError` naming the file and the key, never a value.
Duplicate keys in YAML are refused too. The SHA-256 of the file's bytes travels with
the parsed policy (:class:`Policy`) and is recorded on every result.

This module reads the file it is given; it never writes, prints or logs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from governance.errors import PolicyError
from governance.policy_document import parse_policy_document
from governance.policy_files import default_policy_dir

ZerosMode = Literal["publish", "suppress", "small"]
MethodName = Literal["optimal", "fast", "auto"]
CostName = Literal["cells", "value"]

SUFFIXES = (".yaml", ".yml", ".toml")
_ID = r"^[a-z0-9][a-z0-9_-]*$"
_SMALL_LABEL = re.compile(r"^\s*<\s*(\d+)\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Threshold(_Model):
    """Counts from fewer than ``min_count`` people are primary cells."""

    min_count: int = Field(10, ge=3, le=1000)


class Dominance(_Model):
    """(n, k) rule: a magnitude cell is primary when its ``n`` largest
    contributions exceed ``k`` per cent of the cell."""

    n: int = Field(1, ge=1, le=10)
    k: float = Field(85.0, gt=0, le=100)


class PPercent(_Model):
    """p% rule: a magnitude cell is primary when the second-largest contributor
    could estimate the largest to within ``p`` per cent."""

    p: float = Field(10.0, gt=0, lt=100)


_TABLE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class PrimaryRules(_Model):
    threshold: Threshold = Threshold()
    zeros: ZerosMode = "publish"
    zeros_by_table: dict[str, ZerosMode] = {}
    """Table name -> zeros mode for that table's cells (the rest follow ``zeros``).
    A cell in several tables follows the strictest of their modes."""
    dominance: Dominance | None = None
    p_percent: PPercent | None = None

    @model_validator(mode="after")
    def _table_names(self) -> PrimaryRules:
        for name in self.zeros_by_table:
            if not re.match(_TABLE_NAME, name):
                raise ValueError("zeros_by_table: a key is not a table name")
        return self

    def zeros_for(self, table: str) -> ZerosMode:
        """The zeros mode of one table's cells."""
        return self.zeros_by_table.get(table, self.zeros)

    @property
    def zero_modes(self) -> frozenset[ZerosMode]:
        """Every zeros mode some table follows."""
        return frozenset({self.zeros, *self.zeros_by_table.values()})


class ProtectionLevel(_Model):
    """How wide the intruder's interval for a primary cell must stay."""

    count: float = Field(3.0, gt=0)
    magnitude_percent: float = Field(10.0, ge=0, le=100)


class SecondaryRules(_Model):
    method: MethodName = "auto"
    cost: CostName = "cells"
    protection_level: ProtectionLevel = ProtectionLevel()
    time_limit: float = Field(60.0, gt=0, le=86400)


class Labels(_Model):
    primary: str = Field("<10", min_length=1, max_length=16)
    secondary: str = Field("[c]", min_length=1, max_length=16)
    not_computable: str = Field("[z]", min_length=1, max_length=16)


class Percentages(_Model):
    decimals: int = Field(1, ge=0, le=6)


class Rates(_Model):
    decimals: int = Field(1, ge=0, le=6)
    per: float = Field(1000.0, gt=0)


class RelativeLikelihoodRule(_Model):
    decimals: int = Field(2, ge=0, le=6)
    confidence: float = Field(0.95, gt=0, lt=1)


class DerivedRules(_Model):
    percentages: Percentages = Percentages()
    rates: Rates = Rates()
    relative_likelihood: RelativeLikelihoodRule = RelativeLikelihoodRule()
    inherit_suppression: bool = True


class DisclosurePolicy(_Model):
    primary: PrimaryRules = PrimaryRules()
    secondary: SecondaryRules = SecondaryRules()
    labels: Labels = Labels()
    derived: DerivedRules = DerivedRules()

    @model_validator(mode="after")
    def _consistent(self) -> DisclosurePolicy:
        min_count = self.primary.threshold.min_count
        small = _SMALL_LABEL.match(self.labels.primary)
        if small and int(small.group(1)) != min_count:
            raise ValueError(
                "labels.primary states a threshold other than primary.threshold.min_count"
            )
        if _SMALL_LABEL.match(self.labels.secondary):
            raise ValueError(
                "labels.secondary must not say a cell is small: use e.g. '[c]'"
            )
        if self.labels.not_computable in (self.labels.primary, self.labels.secondary):
            raise ValueError(
                "labels.not_computable must differ from the suppression labels"
            )
        if self.secondary.protection_level.count > min_count - 2:
            raise ValueError(
                "secondary.protection_level.count exceeds what the primary label allows"
                " (at most primary.threshold.min_count - 2)"
            )
        return self

    @property
    def labels_distinguish(self) -> bool:
        """Whether a reader can tell a small cell from a complementary one."""
        return self.labels.primary != self.labels.secondary


class PolicyFile(_Model):
    """The schema of a policy file."""

    id: str = Field(pattern=_ID, max_length=64)
    version: int = Field(ge=1)
    description: str = ""
    disclosure: DisclosurePolicy = DisclosurePolicy()


@dataclass(frozen=True)
class Policy:
    """A validated policy file and the SHA-256 of its bytes."""

    document: PolicyFile
    sha256: str
    source: str
    """Where it came from (a path, or a name for policies built in memory)."""

    @property
    def id(self) -> str:
        return self.document.id

    @property
    def version(self) -> int:
        return self.document.version

    @property
    def disclosure(self) -> DisclosurePolicy:
        return self.document.disclosure


def resolve_policy_path(ref: str | Path, policy_dir: Path | None = None) -> Path:
    """Find a policy file from an id (the file stem) or a path.

    Raises:
        PolicyError: no such file, or an id that matches several files.
    """
    text = str(ref)
    looks_like_path = isinstance(ref, Path) or "/" in text or text.endswith(SUFFIXES)
    if looks_like_path:
        path = Path(ref)
        if not path.is_file():
            raise PolicyError(f"{text}: policy file not found")
        return path
    directory = policy_dir if policy_dir is not None else default_policy_dir()
    found = [directory / f"{text}{suffix}" for suffix in SUFFIXES]
    found = [p for p in found if p.is_file()]
    if not found:
        raise PolicyError(f"policy {text!r} not found in {directory}")
    if len(found) > 1:
        raise PolicyError(
            f"policy {text!r} is ambiguous: {', '.join(p.name for p in found)}"
        )
    return found[0]


def load_policy(ref: str | Path, *, policy_dir: Path | None = None) -> Policy:
    """Load and validate a policy by id or path; its ``id`` must equal the file stem.

    Raises:
        PolicyError: not found, unreadable, malformed, an unknown key, an invalid
            value, or an id that differs from the file name.
    """
    path = resolve_policy_path(ref, policy_dir)
    try:
        content = path.read_bytes()
    except OSError:
        raise PolicyError(f"{path}: cannot be read") from None
    return parse_policy(content, source=str(path), expected_id=path.stem)


def list_policies(policy_dir: Path | None = None) -> list[str]:
    """Return the ids of the policy files in a directory (default: shipped ones)."""
    directory = policy_dir if policy_dir is not None else default_policy_dir()
    return sorted(p.stem for p in directory.iterdir() if p.suffix in SUFFIXES)


def parse_policy(
    content: bytes, *, source: str, expected_id: str | None = None
) -> Policy:
    """Validate a policy file's bytes (YAML, or TOML when ``source`` ends ``.toml``).

    Raises:
        PolicyError: as :func:`load_policy`.
    """
    data = _parse(content, source)
    policy = policy_from_mapping(
        data, source=source, sha256=hashlib.sha256(content).hexdigest()
    )
    if expected_id is not None and policy.id != expected_id:
        raise PolicyError(
            f"{source}: key 'id' must equal the file name ({expected_id!r})"
        )
    return policy


def policy_from_mapping(
    data: Mapping[str, Any], *, source: str = "<memory>", sha256: str | None = None
) -> Policy:
    """Validate a policy given as a mapping (tests, and policies built in code).

    Without ``sha256`` the digest is that of the mapping's canonical JSON, so a
    policy built in memory is still pinned by content.

    Raises:
        PolicyError: an unknown key or an invalid value.
    """
    try:
        document = PolicyFile.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyError(f"{source}: {_describe(exc)}") from None
    if sha256 is None:
        canonical = json.dumps(document.model_dump(mode="json"), sort_keys=True)
        sha256 = hashlib.sha256(canonical.encode()).hexdigest()
    return Policy(document=document, sha256=sha256, source=source)


def _describe(exc: ValidationError) -> str:
    """One line naming every bad key, without the offending values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown key {key!r}")
        elif error["type"] == "missing":
            parts.append(f"missing key {key!r}")
        else:
            msg = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"key {key!r}: {msg}" if error["loc"] else msg)
    return "; ".join(parts)


def _parse(content: bytes, source: str) -> dict[str, Any]:
    """YAML (duplicate keys refused) or TOML, as every policy file is read."""
    return parse_policy_document(content, source=source).data


def method_name(name: str | None) -> MethodName | None:
    """Validate a method name given on a command line (``None`` keeps the policy's).

    Raises:
        PolicyError: not one of ``optimal``, ``fast``, ``auto``.
    """
    if name is None:
        return None
    for known in ("optimal", "fast", "auto"):
        if name == known:
            return known
    raise PolicyError(f"unknown suppression method {name!r}: use optimal, fast or auto")
