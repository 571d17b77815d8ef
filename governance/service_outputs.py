"""What downstream tools read: the catalogue, policies, releases and ad-hoc checks.

These are the read side of the service, used by the HTTP API (and open to any other
front end). Every call is a data access: it is authorised, and recorded in the audit
log in the same transaction as the read, before anything is returned.

Released artefacts are served from the release directory written by
``export_release``, never regenerated. Before a byte leaves, the manifest is checked
against the SHA-256 recorded in the store at release time, and the artefact against
the manifest, so a file changed on disk after release is refused rather than served.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Final

from governance.access import Subject as Caller
from governance.errors import (
    AccessDeniedError,
    NotFoundError,
    ReleaseError,
    TableError,
)
from governance.indicators import Catalogue, load_catalogue
from governance.models import Actor, ReleaseRecord, RequestSummary
from governance.request_specs import PACKS, pack_specs
from governance.sdc.check import CheckResult, check_table
from governance.sdc.policy import list_policies, load_policy
from governance.sdc.structure import parse_structure
from governance.sdc.tidy import parse_tidy_csv
from governance.service_releases import ReleaseActions
from governance.service_requests import recorded_view
from governance.tablespec import TableSpec
from governance.verified_files import VerifiedFiles
from governance.workflow import check_release_access

#: Files of a release directory that are served besides the manifest's artefacts.
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
#: Parsed manifests kept (least recently used out first).
MAX_LISTINGS: Final = 256
#: The largest table or structure an ad-hoc check accepts (bytes).
MAX_CHECK_BYTES: Final = 5 * 1024 * 1024

_MEDIA_TYPES: Final = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".yaml": "application/yaml",
    ".pub": "text/plain; charset=utf-8",
    ".sig": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, eq=False)
class CatalogueView:
    """The tables one may request, and the named packs (one shared, unchanging
    instance: front ends may keep what they render from it while it is the same)."""

    catalogue: Catalogue
    packs: Mapping[str, tuple[TableSpec, ...]]


@dataclass(frozen=True)
class PolicyView:
    """A policy file: its id, kind, SHA-256 and, when asked for one, its text."""

    id: str
    kind: str
    sha256: str
    text: str | None = None


@dataclass(frozen=True)
class ArtefactInfo:
    path: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class ReleaseView:
    """A release as downstream readers see it (never a hidden value)."""

    record: ReleaseRecord
    request: RequestSummary
    artefacts: tuple[ArtefactInfo, ...]

    @property
    def id(self) -> str:
        return self.record.id


@dataclass(frozen=True)
class Artefact:
    """One released file's bytes, checked against the signed manifest."""

    info: ArtefactInfo
    data: bytes


def media_type(path: str) -> str:
    return _MEDIA_TYPES.get(
        PurePosixPath(path).suffix.lower(), "application/octet-stream"
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OutputActions(ReleaseActions):
    """Reads for downstream tools: catalogue, policies, releases, checks."""

    # -- metadata ----------------------------------------------------------------------

    def catalogue(self, caller: Caller) -> CatalogueView:
        """The indicator catalogue's tables and the named packs one may request."""
        actor = self._authorise(
            caller, "catalogue.read", action="policy.read", resource="catalogue"
        )
        view = _catalogue_view()
        self._record_read(
            actor, "policy.read", resource="catalogue",
            detail={"tables": len(view.catalogue.tables)},
        )  # fmt: skip
        return view

    def policies(self, caller: Caller) -> list[PolicyView]:
        """Every policy file in the policy directory, with its SHA-256."""
        actor = self._authorise(
            caller, "policy.read", action="policy.read", resource="policies"
        )
        views = [self._policy_view(path) for path in self._policy_files()]
        self._record_read(
            actor, "policy.read", resource="policies", detail={"count": len(views)}
        )
        return views

    def policy(self, caller: Caller, policy_id: str) -> PolicyView:
        """One policy file's text and SHA-256.

        Raises:
            NotFoundError: no policy file has that id.
        """
        actor = self._authorise(
            caller, "policy.read", action="policy.read", resource=f"policy:{policy_id}"
        )
        found = [p for p in self._policy_files() if p.stem == policy_id]
        if not found:
            raise NotFoundError(f"no policy {policy_id!r}")
        raw = found[0].read_bytes()
        view = self._policy_view(found[0], raw)
        self._record_read(
            actor, "policy.read", resource=f"policy:{policy_id}",
            policy_sha256=view.sha256,
        )  # fmt: skip
        return view

    def _policy_files(self) -> list[Path]:
        directory = self.policy_dir()
        suffixes = {".yaml", ".yml", ".toml"}
        return sorted(p for p in directory.iterdir() if p.suffix in suffixes)

    def _policy_view(self, path: Path, raw: bytes | None = None) -> PolicyView:
        data = path.read_bytes() if raw is None else raw
        kind = (
            "disclosure" if path.stem in list_policies(self.policy_dir()) else "other"
        )
        if path.stem in {"access", "release", "ingest"}:
            kind = path.stem
        text = data.decode("utf-8") if raw is not None else None
        return PolicyView(path.stem, kind, _sha256(data), text)

    # -- releases ----------------------------------------------------------------------

    def releases(self, caller: Caller) -> list[ReleaseView]:
        """The releases the caller may read: released (not revoked), in its scope.

        Raises:
            AccessDeniedError: no current grant holds ``release.read`` at all.
        """
        role = _any_role(caller, "release.read")
        if role is None:
            self._authorise(
                caller, "release.read", action="release.read", resource="releases"
            )
        visible = []
        with self.store.reading() as tx:
            for release, request in tx.released_requests():
                if release.revoked_at is not None:
                    continue
                # released (or revoked): its approvals are history, no lookups
                view = recorded_view(request)
                try:
                    check_release_access(view, caller)
                except AccessDeniedError:
                    continue
                visible.append((release, request))
        self._record_read(
            Actor(caller.id, role or "none"),
            "release.read",
            resource="releases",
            detail={"count": len(visible)},
        )
        return [ReleaseView(r, q, ()) for r, q in visible]

    def release(self, caller: Caller, release_id: str) -> ReleaseView:
        """A release's record and its artefacts (paths, hashes, sizes), checked.

        Raises:
            NotFoundError: no such release.
            AccessDeniedError: revoked, or out of the caller's scope.
            ReleaseError: the files on disk no longer match what was released.
        """
        view, _ = self._read_release(caller, release_id, None)
        return view

    def release_artefact(self, caller: Caller, release_id: str, path: str) -> Artefact:
        """One file of a release, after checking it against the signed manifest.

        Raises:
            NotFoundError: no such release, or no such file in it.
            AccessDeniedError: revoked, or out of the caller's scope.
            ReleaseError: the file changed on disk since the release.
        """
        _, artefact = self._read_release(caller, release_id, path)
        assert artefact is not None  # noqa: S101 - a path was asked for
        return artefact

    def _read_release(
        self, caller: Caller, release_id: str, path: str | None
    ) -> tuple[ReleaseView, Artefact | None]:
        """Authorise, check the files, and record the read before returning it."""
        found = []
        if len(release_id) <= 40:
            with self.store.reading() as tx:
                found = tx.released_requests(release_id)
                if found:  # released or revoked: the recorded approvals
                    access = recorded_view(found[0][1])
        if not found:
            raise NotFoundError(f"no release {release_id!r}")
        record, request = found[0]
        resource = f"release:{release_id}"
        try:
            decision = check_release_access(access, caller)
        except AccessDeniedError as exc:
            self._record_failure(
                Actor(caller.id, "none", request.body), "release.read",
                outcome="deny", resource=resource, body=request.body,
                detail={"permission": "release.read", "reason": exc.reason or "-"},
            )  # fmt: skip
            raise
        view = ReleaseView(record, request, self._manifest_artefacts(record))
        artefact = None if path is None else self._read_artefact(view, path)
        self._record_read(
            Actor(caller.id, decision.role or "none", request.body),
            "release.read",
            resource=resource,
            body=request.body,
            result_digest=record.manifest_sha256
            if artefact is None
            else artefact.info.sha256,
            detail={} if artefact is None else {"artefact": artefact.info.path},
        )
        return view, artefact

    @cached_property
    def _release_files(self) -> VerifiedFiles:
        """Release files with their SHA-256, kept while unchanged on disk."""
        return VerifiedFiles()

    def _manifest(self, record: ReleaseRecord) -> bytes:
        try:
            raw, digest = self._release_files.read(Path(record.directory) / MANIFEST)
        except OSError:
            raise ReleaseError(
                f"release {record.id}: its files are no longer where it was written"
            ) from None
        if digest != record.manifest_sha256:
            raise ReleaseError(
                f"release {record.id}: manifest.json changed since the release; "
                "run `wresgov release verify`"
            )
        return raw

    def _manifest_artefacts(self, record: ReleaseRecord) -> tuple[ArtefactInfo, ...]:
        raw = self._manifest(record)
        try:
            signature: tuple[bytes, str] | None = self._release_files.read(
                Path(record.directory) / SIGNATURE
            )
        except OSError:
            signature = None
        return _listing(raw, signature)

    def _read_artefact(self, view: ReleaseView, path: str) -> Artefact:
        record = view.record
        info = next((a for a in view.artefacts if a.path == path), None)
        if info is None:
            raise NotFoundError(f"release {record.id} has no file {path!r}")
        try:
            data, digest = self._release_files.read(Path(record.directory) / info.path)
        except OSError:
            raise ReleaseError(f"release {record.id}: {info.path} is missing") from None
        if digest != info.sha256:
            raise ReleaseError(
                f"release {record.id}: {info.path} changed since the release; "
                "run `wresgov release verify`"
            )
        return Artefact(info, data)

    # -- pre-publication checks ---------------------------------------------------------

    def check_upload(
        self,
        caller: Caller,
        table: bytes,
        *,
        name: str = "upload.csv",
        structure: bytes | None = None,
        policy_id: str = "wres-wales",
    ) -> CheckResult:
        """Check an uploaded tidy CSV table before publication (the attacker audit).

        Raises:
            AccessDeniedError: the caller may not run checks.
            TableError: not a readable count table, or too large.
            PolicyError: no such policy.
        """
        actor = self._authorise(
            caller, "check.run", action="check.run", resource="check"
        )
        if len(table) > MAX_CHECK_BYTES or len(structure or b"") > MAX_CHECK_BYTES:
            raise TableError(f"{name}: larger than {MAX_CHECK_BYTES:,} bytes")
        policy = load_policy(policy_id, policy_dir=self.policy_dir())
        try:
            text = table.decode("utf-8-sig")
            structure_text = None if structure is None else structure.decode("utf-8")
        except UnicodeDecodeError:
            raise TableError(f"{name}: not UTF-8 text") from None
        dimensions = (
            None
            if structure_text is None
            else parse_structure(structure_text, source="structure")
        )
        result = check_table(parse_tidy_csv(text, source=name), policy, dimensions)
        self._record_read(
            actor, "check.run", resource="check",
            policy_sha256=result.policy_sha256, result_digest=_sha256(table),
            detail={"cells": result.cells, "unsafe": len(result.unsafe), "safe": result.safe},
        )  # fmt: skip
        return result


@cache
def _catalogue_view() -> CatalogueView:
    """The shipped catalogue and its packs, built once (both are fixed in code)."""
    packs = {name: tuple(pack_specs(name)) for name in sorted(PACKS)}
    return CatalogueView(load_catalogue(), MappingProxyType(packs))


@lru_cache(maxsize=MAX_LISTINGS)
def _listing(
    manifest: bytes, signature: tuple[bytes, str] | None
) -> tuple[ArtefactInfo, ...]:
    """The files a release serves: the manifest's artefacts, itself, its signature.

    Cached: the bytes come from ``VerifiedFiles``, the same object while the file
    is unchanged, so a lookup costs no more than comparing two references.
    """
    listed = [
        ArtefactInfo(
            str(item["path"]),
            str(item["sha256"]),
            int(item["size"]),
            media_type(str(item["path"])),
        )
        for item in json.loads(manifest).get("artefacts", [])
    ]
    listed.append(
        ArtefactInfo(MANIFEST, _sha256(manifest), len(manifest), media_type(MANIFEST))
    )
    if signature is not None:
        data, digest = signature
        listed.append(ArtefactInfo(SIGNATURE, digest, len(data), media_type(SIGNATURE)))
    return tuple(sorted(listed, key=lambda a: a.path))


def _any_role(caller: Caller, permission: str) -> str | None:
    """The role of a current grant holding ``permission`` for some body, or None."""
    for grant in caller.grants:
        decision = caller.decide(permission, body=grant.body)
        if decision.allowed:
            return decision.role
    return None
