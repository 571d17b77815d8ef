"""Read one sectioned policy file (YAML, or TOML by suffix) into a mapping and the SHA-256 of its bytes.

Owns the file-level rules shared by the access and release policies: UTF-8 text, safe
YAML with duplicate keys refused, a mapping at the top, an ``id`` that equals the file
stem, and one-line :class:`PolicyError` messages built from pydantic errors without
the offending input. The section models themselves live with their owners
(:mod:`governance.access_policy`, :mod:`governance.workflow`).

This module reads the file it is given; it never writes, prints or logs.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from governance.errors import PolicyError


@dataclass(frozen=True)
class PolicyDocument:
    """The parsed top-level mapping of a policy file, with its provenance."""

    data: dict[str, Any]
    sha256: str
    source: str


def read_policy_document(
    path: Path, *, expected_id: str | None = None
) -> PolicyDocument:
    """Read and parse a policy file; with ``expected_id``, its ``id`` must match.

    Raises:
        PolicyError: missing, unreadable, not UTF-8, not YAML, a duplicate key, not a
            mapping, or an ``id`` other than ``expected_id``.
    """
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except OSError:
        raise PolicyError(f"{path}: cannot be read") from None
    return parse_policy_document(content, source=str(path), expected_id=expected_id)


def parse_policy_document(
    content: bytes, *, source: str, expected_id: str | None = None
) -> PolicyDocument:
    """Parse a policy file's bytes (see :func:`read_policy_document`).

    Raises:
        PolicyError: as :func:`read_policy_document`.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: not UTF-8 text") from None
    try:
        if source.endswith(".toml"):
            data: Any = tomllib.loads(text)
        else:
            # S506: _UniqueKeyLoader is a SafeLoader subclass.
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506
    except _DuplicateKeyError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    except tomllib.TOMLDecodeError:
        raise PolicyError(f"{source}: not valid TOML") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise PolicyError(f"{source}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy file must be a mapping of keys")
    if expected_id is not None and data.get("id") != expected_id:
        raise PolicyError(f"{source}: key 'id' must be {expected_id!r}")
    return PolicyDocument(data, hashlib.sha256(content).hexdigest(), source)


def canonical_sha256(data: object) -> str:
    """SHA-256 of a mapping's canonical JSON: pins a policy built in memory."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming every bad key, never the offending input."""
    parts: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown key {key!r}")
        elif error["type"] == "missing":
            parts.append(f"missing key {key!r}")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"key {key!r}: {message}")
    return "; ".join(parts)


class _DuplicateKeyError(Exception):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            repeated = key in seen
        except TypeError:  # an unhashable key: construct_mapping refuses it below
            continue
        if repeated:
            raise _DuplicateKeyError(
                f"line {key_node.start_mark.line + 1}: key {key!r} is given twice"
            )
        seen.add(key)
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
