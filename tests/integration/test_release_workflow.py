"""The release workflow end to end: request, checks, approvals, signed release."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from governance.access import Subject
from governance.config import Settings
from governance.errors import AccessDeniedError, InvalidTransitionError, PolicyError
from governance.models import AuditQuery
from governance.policy_files import default_policy_dir
from governance.release_verify import verify_release
from governance.request_specs import NATIONAL_PACK, pack_specs
from governance.service import Service
from tests.api_support import PURPOSE, SPEC
from tests.factories import make_row, principal, write_extract

pytest.importorskip("governance.sdc.suppress")


@pytest.fixture
def staffed(service: Service, dm: Subject, tmp_path: Path) -> Service:
    rows = [make_row("staff", i) for i in range(40)]
    for row in rows[:6]:
        row["ethnic_origin"] = "N Black or Black British - African"
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=2026)
    return service


def test_request_to_signed_release(staffed: Service, tmp_path: Path) -> None:
    service = staffed
    analyst = principal(service, "analyst-1", "analyst")
    ig1 = principal(service, "ig-1", "ig_officer")
    ig2 = principal(service, "ig-2", "ig_officer")

    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    assert info.state == "draft"
    info = service.submit_request(analyst, info.id)
    assert info.state == "checked"
    assert info.record.evidence in {"pass", "needs_review"}
    evidence = info.evidence()
    assert evidence is not None and evidence["digest"] == info.record.cleared_digest

    with pytest.raises(AccessDeniedError):
        service.approve_request(analyst, info.id)  # analysts do not review
    info = service.approve_request(ig1, info.id)
    assert (info.state, len(info.record.approvals)) == ("checked", 1)
    with pytest.raises(InvalidTransitionError):
        service.approve_request(ig1, info.id)  # the same officer twice
    info = service.approve_request(ig2, info.id)
    assert info.state == "approved"

    out = tmp_path / "release"
    release = service.export_release(analyst, info.id, out)
    assert (out / "manifest.json").exists()
    result = verify_release(out, [service.signing_key("release").public_key])
    assert result.ok, result.problems
    manifest = (out / "manifest.json").read_bytes()
    assert release.manifest_sha256 == hashlib.sha256(manifest).hexdigest()

    csv_text = (out / "tables" / "staff_by_group.csv").read_text()
    assert "<10" in csv_text  # 6 people: shown as <10
    assert ",6," not in csv_text

    service.revoke_release(ig1, info.id)
    with pytest.raises((AccessDeniedError, InvalidTransitionError)):
        service.export_release(analyst, info.id, tmp_path / "again")

    entries = service.audit_log(ig1, AuditQuery(resource_prefix=f"request:{info.id}"))
    actions = [entry.action for entry in entries]
    for expected in (
        "request.create", "request.submit", "request.check", "request.approve",
        "release.export", "release.revoke",
    ):  # fmt: skip
        assert expected in actions
    assert service.verify_audit(ig1).ok


def test_nobody_approves_their_own_request(staffed: Service) -> None:
    service = staffed
    both = principal(service, "analyst-and-ig", "analyst")
    admin = service.caller_for("admin")
    with pytest.raises(AccessDeniedError):
        # admin cannot give one principal both requesting and reviewing? They can:
        # analyst + ig_officer do not conflict; the workflow must still refuse.
        service.add_grant(admin, "analyst-and-ig", role="admin")
    service.add_grant(admin, "analyst-and-ig", role="ig_officer")
    both = service.caller_for("analyst-and-ig")
    info = service.create_request(both, purpose=PURPOSE, period=2026, tables=[SPEC])
    info = service.submit_request(both, info.id)
    with pytest.raises(AccessDeniedError, match="own_request"):
        service.approve_request(both, info.id)


def test_a_change_after_checking_resets_approvals(
    staffed: Service, dm: Subject, tmp_path: Path
) -> None:
    service = staffed
    analyst = principal(service, "analyst-1", "analyst")
    ig1 = principal(service, "ig-1", "ig_officer")
    ig2 = principal(service, "ig-2", "ig_officer")
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    info = service.submit_request(analyst, info.id)
    service.approve_request(ig1, info.id)
    info = service.approve_request(ig2, info.id)
    assert info.state == "approved"
    # New data arrives: the corrected extract changes the counts.
    rows = [make_row("staff", i) for i in range(55)]
    path = write_extract(tmp_path / "staff2.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=2026)
    with pytest.raises(Exception, match="changed since they were approved"):
        service.export_release(analyst, info.id, tmp_path / "out")
    info = service.show_request(analyst, info.id)
    assert (info.state, info.record.approvals) == ("checked", ())


def test_an_approval_stops_counting_when_its_officer_loses_the_role(
    staffed: Service,
) -> None:
    service = staffed
    analyst = principal(service, "analyst-1", "analyst")
    ig1 = principal(service, "ig-1", "ig_officer")
    ig2 = principal(service, "ig-2", "ig_officer")
    ig3 = principal(service, "ig-3", "ig_officer")
    admin = service.caller_for("admin")
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    info = service.submit_request(analyst, info.id)
    service.approve_request(ig1, info.id)
    service.revoke_principal(admin, "ig-1")  # e.g. found to have a conflict
    info = service.approve_request(ig2, info.id)
    # ig-1's approval stays on the record but no longer makes up the quorum
    assert (info.state, len(info.record.approvals)) == ("checked", 2)
    info = service.approve_request(ig3, info.id)
    assert info.state == "approved"


def test_tables_of_several_populations_are_released_as_one_pack(
    staffed: Service, tmp_path: Path
) -> None:
    service = staffed
    analyst = principal(service, "analyst-1", "analyst")
    officers = [principal(service, f"ig-{n}", "ig_officer") for n in (1, 2)]
    # the stated groups only: a filter on its own dimension makes another population
    stated = SPEC.model_copy(
        update={
            "name": "staff_stated",
            "filters": {"wres_group": ("White", "Ethnic minority")},
        }
    )
    info = service.create_request(
        analyst, purpose=PURPOSE, period=2026, tables=[SPEC, stated]
    )
    info = service.submit_request(analyst, info.id)
    evidence = info.evidence()
    assert evidence is not None and info.record.evidence == "needs_review"
    assert [len(s["tables"]) for s in evidence["linked_sets"]] == [1, 1]
    assert evidence["whole_pack_audit"]["unsafe"] == []
    assert any("staff_stated" in reason for reason in evidence["reasons"])
    for officer in officers:
        info = service.approve_request(officer, info.id)
    out = tmp_path / "pack"
    service.export_release(analyst, info.id, out)
    assert verify_release(out, [service.signing_key("release").public_key]).ok
    released = json.loads((out / "evidence.json").read_text())
    assert released["format"] == "wresgov-pack-evidence/1"
    assert [s["method"]["used"] for s in released["linked_sets"]] == [
        "given pattern",
        "given pattern",
    ]
    assert not (out / "reports").exists()  # reports come with named packs only


def test_a_body_s_national_pack_reports_on_that_body_only(
    staffed: Service, tmp_path: Path
) -> None:
    service = staffed
    analyst = principal(service, "analyst-1", "analyst")
    officers = [principal(service, f"ig-{n}", "ig_officer") for n in (1, 2)]
    info = service.create_request(
        analyst,
        purpose=PURPOSE,
        period=2026,
        tables=pack_specs(NATIONAL_PACK),
        pack=NATIONAL_PACK,
        body="7A1",
    )
    info = service.submit_request(analyst, info.id)
    assert info.record.evidence == "needs_review", info.evidence()
    for officer in officers:
        info = service.approve_request(officer, info.id)
    out = tmp_path / "body"
    service.export_release(analyst, info.id, out)
    # the tables' totals are 7A1's own: a report called "All Wales" would mislead
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["7A1"]
    book = openpyxl.load_workbook(out / "release.xlsx", read_only=True)
    rows = list(book["workforce"].iter_rows(values_only=True))
    assert {row[0] for row in rows[2:] if len(row) > 1 and row[1] is not None} == {
        "BCUHB (7A1)"
    }
    book.close()


def test_a_policy_naming_a_table_the_catalogue_lacks_is_refused(
    gov_settings: Settings, tmp_path: Path
) -> None:
    """A misspelt table under ``zeros_by_table`` would silently leave that table
    under the default zeros rule: the request is refused instead."""
    policies = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), policies)
    text = (policies / "wres-wales.yaml").read_text(encoding="utf-8")
    text = text.replace("id: wres-wales", "id: misspelt").replace(
        "staff_band_ethnicity: small", "staff_band_ethnicty: small"
    )
    (policies / "misspelt.yaml").write_text(text, encoding="utf-8")
    service = Service(gov_settings.model_copy(update={"policy_dir": policies}))
    service.init()
    try:
        analyst = principal(service, "analyst-1", "analyst")
        with pytest.raises(PolicyError, match="'staff_band_ethnicty', which is not"):
            service.create_request(
                analyst, purpose=PURPOSE, period=2026, tables=[SPEC],
                policy_id="misspelt",
            )  # fmt: skip
        # the shipped policy in the same directory is still fine
        service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    finally:
        service.close()
