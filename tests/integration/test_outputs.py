"""The service's reads for downstream tools: releases served only as released."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from governance.errors import AccessDeniedError, NotFoundError, ReleaseError, TableError
from governance.models import AuditQuery
from governance.service import Service
from tests.api_support import CHECK_TABLE, PURPOSE, SPEC, released
from tests.factories import principal


@pytest.fixture
def release(service: Service, tmp_path: Path) -> str:
    return released(service, tmp_path)[1]


def _directory(service: Service, release_id: str) -> Path:
    return service.settings.resolved_release_dir / release_id


def test_a_release_lists_every_file_with_its_manifest_hash(
    service: Service, release: str
) -> None:
    reader = principal(service, "reader", "downstream")
    view = service.release(reader, release)
    manifest = json.loads((_directory(service, release) / "manifest.json").read_text())
    listed = {a["path"]: a["sha256"] for a in manifest["artefacts"]}
    files = {a.path: a.sha256 for a in view.artefacts}
    assert {p: files[p] for p in listed} == listed
    assert {"manifest.json", "manifest.sig"} <= set(files)
    data = service.release_artefact(reader, release, "tables/staff_by_group.csv")
    assert data.info.media_type.startswith("text/csv") and b"<10" in data.data


def test_a_changed_manifest_or_a_missing_file_is_refused(
    service: Service, release: str
) -> None:
    reader = principal(service, "reader", "downstream")
    directory = _directory(service, release)
    (directory / "tables" / "staff_by_group.structure.yaml").unlink()
    with pytest.raises(ReleaseError, match="missing"):
        service.release_artefact(
            reader, release, "tables/staff_by_group.structure.yaml"
        )
    manifest = directory / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"purpose"', '"purpose" '))
    with pytest.raises(ReleaseError, match=r"manifest\.json changed"):
        service.release(reader, release)
    shutil.rmtree(directory)
    with pytest.raises(ReleaseError, match="no longer where"):
        service.release(reader, release)


def test_a_file_served_before_and_changed_since_is_refused(
    service: Service, release: str
) -> None:
    reader = principal(service, "reader", "downstream")
    name = "tables/staff_by_group.csv"
    target = _directory(service, release) / name
    served = service.release_artefact(reader, release, name).data
    # Same length, same modification time: only the change time tells.
    before = target.stat()
    changed = served.replace(b"<10", b"999", 1)
    assert changed != served and len(changed) == len(served)
    target.write_bytes(changed)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ReleaseError, match="changed since the release"):
        service.release_artefact(reader, release, name)
    target.write_bytes(served)  # put back: served again, byte for byte
    assert service.release_artefact(reader, release, name).data == served
    (_directory(service, release) / "manifest.sig").unlink()
    listed = {a.path for a in service.release(reader, release).artefacts}
    assert "manifest.json" in listed and "manifest.sig" not in listed
    manifest = _directory(service, release) / "manifest.json"
    manifest.write_bytes(manifest.read_bytes() + b" ")
    with pytest.raises(ReleaseError, match=r"manifest\.json changed"):
        service.release_artefact(reader, release, name)


def test_unknown_releases_files_and_out_of_scope_readers(
    service: Service, release: str
) -> None:
    reader = principal(service, "reader", "downstream")
    with pytest.raises(NotFoundError):
        service.release(reader, "R999-20260101T000000Z")
    with pytest.raises(NotFoundError):
        service.release(reader, "x" * 200)
    with pytest.raises(NotFoundError):
        service.release_artefact(reader, release, "../wresgov.db")
    scoped = principal(service, "scoped", "downstream", "7A2")
    with pytest.raises(AccessDeniedError):
        service.release(scoped, release)  # an all-Wales release, a 7A2 grant
    assert service.releases(scoped) == []
    ig = principal(service, "ig-reader", "ig_officer")
    denied = service.audit_log(ig, AuditQuery(principal="scoped", outcome="deny"))
    assert [e.action for e in denied] == ["release.read"]


def test_checks_refuse_oversized_and_non_utf8_uploads(service: Service) -> None:
    publisher = principal(service, "ci", "publisher")
    with pytest.raises(TableError, match="larger than"):
        service.check_upload(publisher, b"x" * (5 * 1024 * 1024 + 1))
    with pytest.raises(TableError, match="not UTF-8"):
        service.check_upload(publisher, b"\xff\xfe")
    structure = b"""dimensions:
  - {name: dept, total: Total, hierarchy: {Total: [Sales, Ops]}}
  - {name: grade, total: Total, hierarchy: {Total: [G1, G2]}}
"""
    result = service.check_upload(publisher, CHECK_TABLE.encode(), structure=structure)
    assert result.safe and result.cells == 9


def test_policies_name_their_kind(service: Service) -> None:
    reader = principal(service, "ci", "publisher")
    kinds = {p.id: p.kind for p in service.policies(reader)}
    assert kinds["access"] == "access" and kinds["wres-wales"] == "disclosure"
    assert kinds["release"] == "release" and kinds["ingest"] == "ingest"
    with pytest.raises(NotFoundError):
        service.policy(reader, "nope")


def test_a_request_filter_matches_that_request_only(service: Service) -> None:
    analyst = principal(service, "many", "analyst")
    for _ in range(10):
        service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    ig = principal(service, "ig-filter", "ig_officer")
    first = service.audit_log(ig, AuditQuery.of(request=1))
    assert [e.resource for e in first] == ["request:1"]  # not request:10
    tenth = service.audit_log(ig, AuditQuery.of(request="10", body="7a1"))
    assert tenth == []  # an all-Wales request has no body
