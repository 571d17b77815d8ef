"""An approval counts only while its officer may still review the request.

Revoking an approver's grant after the request was approved takes the approval out
of the quorum everywhere: ``show``, ``list``, the HTTP schemas and ``release``. The
approval stays on the record, marked lapsed; a new grant or a fresh approval from
another officer makes the request releasable again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.schemas import Request
from cli import main
from governance.access import Subject
from governance.config import Settings
from governance.errors import InvalidTransitionError
from governance.models import AuditQuery
from governance.service import RequestInfo, Service
from tests.api_support import PURPOSE, SPEC
from tests.factories import make_row, write_extract

pytest.importorskip("governance.sdc.suppress")


@pytest.fixture
def tokens(service: Service) -> dict[str, str]:
    """analyst-1 and three IG officers, ig-1 to ig-3: their tokens."""
    admin = service.caller_for("admin")
    found = {"analyst-1": service.add_principal(admin, "analyst-1", role="analyst")}
    for name in ("ig-1", "ig-2", "ig-3"):
        found[name] = service.add_principal(admin, name, role="ig_officer")
    return found


@pytest.fixture
def approved(
    service: Service, dm: Subject, tokens: dict[str, str], tmp_path: Path
) -> RequestInfo:
    """A request of analyst-1 approved by ig-1 and ig-2; ig-3 has not voted."""
    rows = [make_row("staff", i) for i in range(40)]
    path = write_extract(tmp_path / "staff.csv", "staff", rows)
    service.ingest(dm, path, kind="staff", org="7A1", period=2026)
    analyst = service.caller_for("analyst-1")
    officers = [service.caller_for(f"ig-{n}") for n in (1, 2, 3)]
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[SPEC])
    info = service.submit_request(analyst, info.id)
    for officer in officers[:2]:
        info = service.approve_request(officer, info.id)
    assert info.state == "approved"
    return info


def _revoke_role(service: Service, name: str) -> None:
    admin = service.caller_for("admin")
    (grant,) = service.caller_for(name).grants
    assert grant.id is not None
    service.revoke_grant(admin, grant.id)


def test_release_is_refused_once_an_approver_s_grant_is_revoked(
    service: Service, approved: RequestInfo, tmp_path: Path
) -> None:
    analyst = service.caller_for("analyst-1")
    _revoke_role(service, "ig-1")
    out = tmp_path / "out"
    with pytest.raises(InvalidTransitionError, match="1 of 2 approvals") as raised:
        service.export_release(analyst, approved.id, out)
    assert raised.value.exit_code == 14
    assert "\n" not in str(raised.value)
    assert not out.exists()
    ig2 = service.caller_for("ig-2")
    refusals = service.audit_log(
        ig2, AuditQuery(action="release.export", resource=f"request:{approved.id}")
    )
    assert [(e.outcome, json.loads(e.detail)["reason"]) for e in refusals] == [
        ("error", "invalid_transition")
    ]

    # a new grant for the same officer: the approval stands again
    service.add_grant(service.caller_for("admin"), "ig-1", role="ig_officer")
    release = service.export_release(analyst, approved.id, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [a["principal"] for a in manifest["approvals"]] == ["ig-1", "ig-2"]
    assert release.request_id == approved.id


def test_a_fresh_approval_makes_up_for_a_lapsed_one(
    service: Service, approved: RequestInfo, tmp_path: Path
) -> None:
    analyst = service.caller_for("analyst-1")
    _revoke_role(service, "ig-1")
    info = service.approve_request(service.caller_for("ig-3"), approved.id)
    assert info.state == "approved"
    assert info.lapsed == frozenset({"ig-1"})
    (entry,) = service.audit_log(
        service.caller_for("ig-2"),
        AuditQuery(action="request.approve", resource=f"request:{approved.id}"),
    )[-1:]
    # the audit entry counts the approvals that stand, and the lapsed ones apart
    detail = json.loads(entry.detail)
    assert (detail["approvals"], detail["approvals_lapsed"]) == (2, 1)
    out = tmp_path / "out"
    service.export_release(analyst, approved.id, out)
    manifest = json.loads((out / "manifest.json").read_text())
    # the lapsed approval is not one the release was made on
    assert [a["principal"] for a in manifest["approvals"]] == ["ig-2", "ig-3"]


def test_show_list_and_the_api_mark_a_lapsed_approval(
    service: Service, approved: RequestInfo
) -> None:
    _revoke_role(service, "ig-1")
    ig2 = service.caller_for("ig-2")
    shown = service.show_request(ig2, approved.id)
    (listed,) = service.list_requests(ig2)
    for info in (shown, listed):
        assert [p for p, _ in info.record.approvals] == ["ig-1", "ig-2"]
        assert info.lapsed == frozenset({"ig-1"})
        assert info.standing == ("ig-2",)
    body = Request.of(shown)
    assert [(a.principal, a.lapsed) for a in body.approvals] == [
        ("ig-1", True),
        ("ig-2", False),
    ]


def test_the_cli_refuses_the_release_in_one_line(
    service: Service,
    approved: RequestInfo,
    tokens: dict[str, str],
    gov_settings: Settings,
    tmp_path: Path,
) -> None:
    _revoke_role(service, "ig-1")
    env = {
        "WRESGOV_HOME": str(gov_settings.home),
        "WRESGOV_DATABASE_URL": str(gov_settings.database_url),
        "WRESGOV_TOKEN": tokens["ig-2"],
    }
    runner = CliRunner()
    shown = runner.invoke(
        main, ["request", "show", str(approved.id), "--no-evidence"], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "ig-1 (" in shown.output and "lapsed" in shown.output
    env["WRESGOV_TOKEN"] = tokens["analyst-1"]
    out = tmp_path / "cli-out"
    result = runner.invoke(
        main, ["release", "export", str(approved.id), "--out", str(out)], env=env
    )
    assert result.exit_code == 14
    assert result.stderr.count("\n") == 1
    assert "1 of 2 approvals" in result.stderr
    assert not out.exists()
