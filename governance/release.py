"""Release artefacts: a cleared set written as a signed, self-checking directory.

Owns :func:`write_release`, which lays out one release directory::

    manifest.json   manifest.sig   release-key.pub
    release.xlsx    release.json   evidence.json
    tables/<table>.csv             tables/<table>.structure.yaml
    <extra files from the caller, e.g. charts and an HTML report>

``manifest.json`` records the request, purpose, requester, approvers, policy hashes,
the audit chain head at release, the time, and every artefact's path, size and
SHA-256; ``manifest.sig`` is an Ed25519 signature over its exact bytes. Only a
:class:`~governance.sdc.clear.ClearedSet` or
:class:`~governance.sdc.pack.ClearedPack` (built by the disclosure engine, which
audited it) can be written. The directory appears whole or not at all: it is built in a hidden sibling
directory, every file and directory is fsynced, and it is renamed into place; on any
failure the partial directory is removed. Output bytes depend only on the inputs.

:func:`verify_release` (in :mod:`governance.release_verify`) checks a directory
offline. This module never touches the store, the clock or the environment (the
caller passes the time and the audit head), and never prints or logs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from audit.events import ChainHead, format_time
from audit.keys import SigningKey
from governance.errors import ConflictError, DisclosureError, ReleaseError
from governance.release_render import (
    IndicatorSheet,
    Notes,
    count_neutralised,
    render_data,
    render_table_csv,
    render_table_structure,
    render_workbook,
    sheet_names,
)
from governance.release_verify import (
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    RELEASE_FORMAT,
    SIGNATURE_NAME,
    UNCOMMITTED_NAME,
    ReleaseProblem,
    ReleaseVerification,
    artefact_path_problem,
    canonical_json,
    sign_manifest,
    verify_release,
)
from governance.sdc.evidence import evidence_text
from governance.sdc.pack import Cleared
from governance.sdc.policy import Policy

__all__ = [
    "MANIFEST_NAME",
    "PUBLIC_KEY_NAME",
    "RELEASE_FORMAT",
    "SIGNATURE_NAME",
    "Approval",
    "Artefact",
    "IndicatorSheet",
    "ReleaseInfo",
    "ReleaseManifest",
    "ReleaseProblem",
    "ReleaseVerification",
    "mark_uncommitted",
    "move_release",
    "render_release",
    "settle_release",
    "stage_release",
    "verify_release",
    "write_release",
]

WORKBOOK_NAME = "release.xlsx"
DATA_NAME = "release.json"
EVIDENCE_NAME = "evidence.json"
TABLES_DIR = "tables"
GENERATED = frozenset(
    {MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME, WORKBOOK_NAME, DATA_NAME}
    | {EVIDENCE_NAME, UNCOMMITTED_NAME}
)

_TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644
_DIR_MODE = 0o755


@dataclass(frozen=True, slots=True)
class Approval:
    """One IG officer's approval: the principal id and when it was recorded."""

    principal: str
    at: datetime


@dataclass(frozen=True)
class ReleaseInfo:
    """What the manifest records about the request behind a release."""

    release_id: str
    request_id: str
    purpose: str
    requester: str
    approvals: tuple[Approval, ...]
    audit_head: ChainHead
    """The audit chain head at release (size and hash of the last entry)."""
    created: datetime
    """The release time (timezone-aware); also the XLSX document and ZIP times."""
    title: str = ""
    policy_files: Mapping[str, str] = field(default_factory=dict)
    """Other policy files the release was made under: file name to SHA-256 (hex)."""


@dataclass(frozen=True, slots=True)
class Artefact:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ReleaseManifest:
    """What :func:`write_release` wrote: where, the manifest's hash, and each file."""

    directory: Path
    release_id: str
    manifest_sha256: str
    key_name: str
    key_id: str
    artefacts: tuple[Artefact, ...]


def _check_text(name: str, value: object, *, multiline: bool = False) -> None:
    allowed = "\n\t" if multiline else ""
    if (
        not isinstance(value, str)
        or not value.strip()
        or any(
            (ord(ch) < 0x20 and ch not in allowed) or ord(ch) == 0x7F for ch in value
        )
    ):
        raise ReleaseError(f"release field {name!r} must be non-empty text")


def _check_aware(name: str, moment: object) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ReleaseError(f"release field {name!r} must be a timezone-aware time")


def _check_info(info: ReleaseInfo, cleared: Cleared, policy: Policy) -> None:
    for name in ("release_id", "request_id", "requester"):
        _check_text(name, getattr(info, name))
    _check_text("purpose", info.purpose, multiline=True)
    if info.title:
        _check_text("title", info.title)
    _check_aware("created", info.created)
    if not info.approvals:
        raise ReleaseError("a release needs at least one approval")
    approvers = [a.principal for a in info.approvals]
    for approval in info.approvals:
        _check_text("approvals.principal", approval.principal)
        _check_aware("approvals.at", approval.at)
    if len(set(approvers)) != len(approvers):
        raise ReleaseError("an approver is listed twice")
    if info.requester in approvers:
        raise ReleaseError("the requester cannot be an approver of their own release")
    for name, digest in info.policy_files.items():
        _check_text("policy_files", name)
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ReleaseError(f"policy file {name!r}: SHA-256 must be 64 hex digits")
    evidence = cleared.evidence
    if (policy.id, policy.sha256) != (evidence.policy_id, evidence.policy_sha256):
        raise ReleaseError(
            f"policy {policy.id!r} is not the policy the tables were cleared under"
            f" ({evidence.policy_id!r})"
        )
    if evidence.unsafe:
        raise DisclosureError("the cleared set's evidence lists unsafe cells")
    seen: set[str] = set()
    for table in cleared.tables:
        if not _TABLE_NAME.fullmatch(table.name):
            raise ReleaseError(
                f"table {table.name!r}: a released table name must be letters, digits,"
                " '_', '.' or '-' (at most 100)"
            )
        if table.name.casefold() in seen:
            raise ReleaseError(f"table {table.name!r}: two tables differ only by case")
        seen.add(table.name.casefold())


def _table_paths(cleared: Cleared) -> dict[str, tuple[str, str]]:
    return {
        t.name: (f"{TABLES_DIR}/{t.name}.csv", f"{TABLES_DIR}/{t.name}.structure.yaml")
        for t in cleared.tables
    }


def _add_extras(files: dict[str, bytes], extra_files: Mapping[str, bytes]) -> None:
    folded = {p.casefold() for p in files} | {n.casefold() for n in GENERATED}
    for path in sorted(extra_files):
        problem = artefact_path_problem(path)
        if problem is not None:
            raise ReleaseError(f"extra file {path!r}: path {problem}")
        if path.casefold() in folded:
            raise ReleaseError(f"extra file {path!r}: clashes with another artefact")
        data = extra_files[path]
        if not isinstance(data, bytes):
            raise ReleaseError(f"extra file {path!r}: content must be bytes")
        files[path] = data
        folded.add(path.casefold())
    # a path may not be both a file and a directory ("a" and "a/b")
    parents = {
        "/".join(p.split("/")[:i]).casefold()
        for p in files
        for i in range(1, p.count("/") + 1)
    }
    clash = sorted(p for p in files if p.casefold() in parents)
    if clash:
        raise ReleaseError(f"extra file {clash[0]!r}: is also used as a directory")


def render_release(
    *,
    cleared: Cleared,
    info: ReleaseInfo,
    policy: Policy,
    signing_key: SigningKey,
    extra_files: Mapping[str, bytes] | None = None,
    indicator_sheets: Sequence[IndicatorSheet] = (),
) -> dict[str, bytes]:
    """Every file of the release, by relative path, without writing anything.

    Raises:
        ReleaseError: see :func:`write_release`.
        DisclosureError: the evidence lists unsafe cells.
    """
    _check_info(info, cleared, policy)
    created = format_time(info.created)
    notes = Notes(
        info.release_id, info.request_id, info.title, info.purpose, created, policy
    )
    paths = _table_paths(cleared)
    files: dict[str, bytes] = {}
    for table in cleared.tables:
        csv_path, structure_path = paths[table.name]
        files[csv_path] = render_table_csv(table)
        files[structure_path] = render_table_structure(table)
    files[WORKBOOK_NAME] = render_workbook(
        cleared, notes, info.created, indicator_sheets
    )
    files[DATA_NAME] = render_data(cleared, notes, paths)
    files[EVIDENCE_NAME] = evidence_text(cleared).encode("utf-8")
    files[PUBLIC_KEY_NAME] = (signing_key.public_key.to_text() + "\n").encode("ascii")
    _add_extras(files, extra_files or {})
    artefacts = [
        Artefact(path, len(data), hashlib.sha256(data).hexdigest())
        for path, data in sorted(files.items())
    ]
    manifest = canonical_json(
        _manifest_fields(cleared, info, policy, signing_key, paths, artefacts)
    )
    files[MANIFEST_NAME] = manifest
    files[SIGNATURE_NAME] = sign_manifest(signing_key, manifest).to_bytes()
    return files


def _manifest_fields(
    cleared: Cleared,
    info: ReleaseInfo,
    policy: Policy,
    key: SigningKey,
    paths: Mapping[str, tuple[str, str]],
    artefacts: list[Artefact],
) -> dict[str, object]:
    sheets = sheet_names([t.name for t in cleared.tables])
    return {
        "format": RELEASE_FORMAT,
        "release_id": info.release_id,
        "request_id": info.request_id,
        "title": info.title,
        "purpose": info.purpose,
        "requester": info.requester,
        "approvals": [
            {"principal": a.principal, "at": format_time(a.at)} for a in info.approvals
        ],
        "policy": {"id": policy.id, "version": policy.version, "sha256": policy.sha256},
        "policy_files": dict(sorted(info.policy_files.items())),
        "audit_head": {
            "size": info.audit_head.size,
            "hash": info.audit_head.head_hash.hex(),
        },
        "created": format_time(info.created),
        "cleared_digest": cleared.digest,
        "signing_key": {
            "name": key.name,
            "id": key.key_id.hex(),
            "verifier": key.public_key.to_text(),
        },
        "tables": [
            {
                "name": t.name,
                "csv": paths[t.name][0],
                "structure": paths[t.name][1],
                "sheet": sheets[t.name],
                "rows": len(t.cells),
                "content_sha256": t.digest(),
                "neutralised_cells": count_neutralised(t),
            }
            for t in cleared.tables
        ],
        "artefacts": [
            {"path": a.path, "size": a.size, "sha256": a.sha256} for a in artefacts
        ],
    }


def write_release(
    directory: Path,
    *,
    cleared: Cleared,
    info: ReleaseInfo,
    policy: Policy,
    signing_key: SigningKey,
    extra_files: Mapping[str, bytes] | None = None,
    indicator_sheets: Sequence[IndicatorSheet] = (),
    staged: bool = False,
) -> ReleaseManifest:
    """Write a signed release directory for ``cleared``; all of it or nothing.

    ``policy`` must be the policy the set was cleared under (its labels explain the
    symbols). ``extra_files`` maps safe relative paths to bytes written as given;
    ``indicator_sheets`` (a pack's) are added to the workbook after its notes.
    ``directory`` must not exist, or be an empty directory; its parent is created,
    the release is built beside it and renamed into place. With ``staged`` it is
    an empty directory from :func:`stage_release`, written into directly: the
    caller moves it into place (:func:`move_release`) or removes it.

    Raises:
        ReleaseError: a field is empty or malformed, the requester is an approver,
            the policy differs from the evidence's, a table or extra-file name is
            unsafe or clashes, or a text cell cannot be stored in XLSX.
        ConflictError: ``directory`` exists and is not an empty directory.
        DisclosureError: the evidence lists unsafe cells.
    """
    files = render_release(
        cleared=cleared,
        info=info,
        policy=policy,
        signing_key=signing_key,
        extra_files=extra_files,
        indicator_sheets=indicator_sheets,
    )
    if staged:
        _write_files(directory, files)
    else:
        _write_atomically(directory, files)
    listed = [p for p in files if p not in (MANIFEST_NAME, SIGNATURE_NAME)]
    return ReleaseManifest(
        directory=directory,
        release_id=info.release_id,
        manifest_sha256=hashlib.sha256(files[MANIFEST_NAME]).hexdigest(),
        key_name=signing_key.name,
        key_id=signing_key.key_id.hex(),
        artefacts=tuple(
            Artefact(p, len(files[p]), hashlib.sha256(files[p]).hexdigest())
            for p in sorted(listed)
        ),
    )


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ConflictError(f"{target}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise ConflictError(f"{target}: exists and is not empty")


def _write_file(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, _FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage_release(target: Path) -> Path:
    """Make an empty directory beside ``target`` to build a release in.

    ``target`` must not exist, or be an empty directory; its parent is created.
    :func:`move_release` moves the staged directory into place.

    Raises:
        ConflictError: ``target`` exists and is not an empty directory.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _check_target(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    staging.chmod(_DIR_MODE)
    return staging


def move_release(staging: Path, target: Path) -> None:
    """Rename a staged directory to ``target`` (absent or empty) and sync the parent.

    Raises:
        ConflictError: ``target`` exists and is not an empty directory.
    """
    try:
        os.rename(staging, target)  # succeeds only if target is absent or empty
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise ConflictError(f"{target}: exists and is not empty") from None
        raise
    _fsync_directory(target.parent)


_UNCOMMITTED_TEXT = (
    b"An export wrote this release directory and has not recorded it in the store.\n"
    b"It is not a release until the store lists it (wresgov request show), and\n"
    b"wresgov release verify fails while this file is here. wresgov removes it once\n"
    b"the release is committed; if the store does not list the release, the export\n"
    b"was interrupted and the directory can be deleted.\n"
)


def mark_uncommitted(staging: Path) -> None:
    """Put the ``UNCOMMITTED`` marker into a staged release.

    A service export moves the directory into place inside its transaction and
    removes the marker (:func:`settle_release`) after the commit, so a process
    killed between the two leaves a directory that fails verification rather than a
    valid, signed release the store and the audit log know nothing of.
    """
    _write_file(staging / UNCOMMITTED_NAME, _UNCOMMITTED_TEXT)
    _fsync_directory(staging)


def settle_release(target: Path) -> None:
    """Remove the ``UNCOMMITTED`` marker once the store has recorded the release."""
    (target / UNCOMMITTED_NAME).unlink()
    _fsync_directory(target)


def _write_files(staging: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into the empty directory ``staging`` and fsync all of it."""
    directories = {staging}
    for relative in sorted(files):
        path = staging.joinpath(*relative.split("/"))
        for folder in reversed(path.parents):
            if folder.is_relative_to(staging) and folder not in directories:
                folder.mkdir(mode=_DIR_MODE)
                directories.add(folder)
        _write_file(path, files[relative])
    for folder in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        _fsync_directory(folder)


def _write_atomically(target: Path, files: Mapping[str, bytes]) -> None:
    """Build the directory beside ``target``, fsync it, and rename it into place."""
    staging = stage_release(target)
    try:
        _write_files(staging, files)
        move_release(staging, target)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
