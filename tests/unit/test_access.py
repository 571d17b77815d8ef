"""Access decisions against policies/access.yaml: the full matrix, then each rule."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance.access import (
    Decision,
    Grant,
    Principal,
    Subject,
    can,
    can_assign,
    can_review,
    check,
    check_can_assign,
    check_not_requester,
    decide,
    validate_grant,
)
from governance.access_policy import (
    PERMISSIONS,
    ROLES,
    access_policy_from_mapping,
    is_permission,
    is_role,
    load_access_policy,
)
from governance.errors import AccessDeniedError, PolicyError
from governance.policy_files import default_policy_dir
from tests.access_support import (
    ACCESS,
    NOW,
    OTHER_BODY,
    OWN_BODY,
    YEAR,
    make_actor,
    make_grant,
)

POLICY_FILE = default_policy_dir() / "access.yaml"
RAW: dict[str, Any] = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
RAW_ROLES: dict[str, Any] = RAW["access"]["roles"]

# The oracle's own list: which permissions a body-scoped grant limits. Kept apart
# from the code on purpose, so a change to either shows here.
BODY_SCOPED = {
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
    "audit.read",
    "audit.export",
}
UNKNOWN_PERMISSIONS = ("request.approve", "data.read", "")

# (name, valid_from, valid_until, revoked_at) relative to NOW, and the expected
# reason when the role holds the permission and the body fits.
TIMES: list[tuple[str, datetime, datetime | None, datetime | None, str]] = [
    ("live", NOW - YEAR, NOW + YEAR, None, "allowed"),
    ("open-ended", NOW - YEAR, None, None, "allowed"),
    ("starts now", NOW, NOW + YEAR, None, "allowed"),
    ("revocation pending", NOW - YEAR, None, NOW + timedelta(seconds=1), "allowed"),
    ("not yet valid", NOW + timedelta(seconds=1), NOW + YEAR, None, "not_yet_valid"),
    ("ends now", NOW - YEAR, NOW, None, "expired"),
    ("expired long ago", NOW - 2 * YEAR, NOW - YEAR, None, "expired"),
    ("revoked now", NOW - YEAR, NOW + YEAR, NOW, "revoked"),
    ("revoked earlier", NOW - YEAR, None, NOW - timedelta(days=1), "revoked"),
]


def grant_bodies(role: str) -> list[str | None]:
    scope = RAW_ROLES[role]["body_scope"]
    options: dict[str, list[str | None]] = {
        "required": [OWN_BODY],
        "forbidden": [None],
        "optional": [OWN_BODY, None],
    }
    return options[scope]


def expected(
    role: str,
    grant_body: str | None,
    permission: str,
    body: str | None,
    time_reason: str,
) -> str:
    if permission not in PERMISSIONS:
        return "unknown_permission"
    if permission not in RAW_ROLES[role]["permissions"]:
        return "no_grant"
    if time_reason != "allowed":
        return time_reason
    if permission in BODY_SCOPED and grant_body is not None and grant_body != body:
        return "out_of_scope"
    return "allowed"


def test_policy_file_has_every_role_and_no_other() -> None:
    assert set(RAW_ROLES) == set(ROLES)
    assert all(is_role(role) for role in RAW_ROLES) and not is_role("root")
    assert all(is_permission(p) for p in PERMISSIONS) and not is_permission("x")
    assert ACCESS.sha256 == hashlib.sha256(POLICY_FILE.read_bytes()).hexdigest()
    assert ACCESS.id == "access" and ACCESS.version >= 1
    for role in ROLES:
        assert ACCESS.permissions_of(role) == frozenset(RAW_ROLES[role]["permissions"])


def test_access_matrix_matches_policy_file() -> None:
    """Every role x grant body x permission x body asked x time: 0 surprises."""
    unexpected_allows: list[tuple[str, ...]] = []
    mismatches: list[tuple[str, ...]] = []
    cells = 0
    permissions = [*PERMISSIONS, *UNKNOWN_PERMISSIONS]
    for role in ROLES:
        for grant_body, (
            label,
            start,
            until,
            revoked,
            time_reason,
        ) in itertools.product(grant_bodies(role), TIMES):
            grant = make_grant(
                "p1",
                role,
                grant_body,
                valid_from=start,
                valid_until=until,
                revoked_at=revoked,
            )
            principal = Principal("p1", name="Test")
            for permission, body in itertools.product(
                permissions, [OWN_BODY, OTHER_BODY, None]
            ):
                cells += 1
                got = decide(
                    principal, [grant], permission, body=body, now=NOW, policy=ACCESS
                )
                want = expected(role, grant_body, permission, body, time_reason)
                where = (role, str(grant_body), label, permission, str(body))
                if got.allowed and want != "allowed":
                    unexpected_allows.append(where)
                if got.reason != want or got.allowed != (want == "allowed"):
                    mismatches.append((*where, got.reason, want))
    assert cells > 3000
    assert unexpected_allows == []
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
def test_inactive_principal_is_denied_everything(role: str) -> None:
    actor = make_actor("p1", (role, grant_bodies(role)[0]), active=False)
    for permission in PERMISSIONS:
        decision = actor.decide(permission, body=OWN_BODY)
        assert not decision.allowed and decision.reason == "principal_inactive"


def test_no_grants_denies_with_no_grant() -> None:
    decision = make_actor("p1").decide("policy.read", body=None)
    assert decision == Decision(
        False, "no_grant", "policy.read", None, None, None, ACCESS.sha256
    )


def test_casbin_fail_open_case_denies() -> None:
    """pycasbin let an expired temporal role through without a condition function."""
    ancient = make_grant(
        "p1",
        "ig_officer",
        None,
        valid_from=datetime(1, 1, 1, tzinfo=NOW.tzinfo),
        valid_until=datetime(1, 1, 2, tzinfo=NOW.tzinfo),
    )
    decision = decide(
        Principal("p1", "x"), [ancient], "audit.read", body=None, now=NOW, policy=ACCESS
    )
    assert (decision.allowed, decision.reason) == (False, "expired")


def test_admin_cannot_review_or_read_data() -> None:
    admin = make_actor("root", "admin")
    data = [p for p, s in PERMISSIONS.items() if s.category in ("data", "oversight")]
    assert data
    assert not [p for p in data if can(admin, p, body=None)]
    assert can(admin, "grant.manage", body=None)


def test_allow_records_the_narrowest_grant() -> None:
    wide = make_grant("p1", "ig_officer", None)
    narrow = make_grant("p1", "ig_officer", OWN_BODY)
    actor = Subject(Principal("p1", "x"), (wide, narrow), ACCESS, NOW)
    decision = actor.decide("request.review", body=OWN_BODY)
    assert decision.allowed and decision.grant_id == narrow.id
    assert decision.role == "ig_officer" and decision.policy_sha256 == ACCESS.sha256
    assert actor.decide("request.review", body=OTHER_BODY).grant_id == wide.id


def test_denial_reports_the_grant_that_came_closest() -> None:
    expired = make_grant("p1", "ig_officer", None, valid_until=NOW - timedelta(days=1))
    scoped = make_grant("p1", "ig_officer", OWN_BODY)
    revoked = make_grant("p1", "ig_officer", None, revoked_at=NOW - timedelta(days=2))
    actor = Subject(Principal("p1", "x"), (revoked, expired, scoped), ACCESS, NOW)
    decision = actor.decide("request.review", body=OTHER_BODY)
    assert (decision.reason, decision.grant_id) == ("out_of_scope", scoped.id)
    actor = Subject(Principal("p1", "x"), (revoked, expired), ACCESS, NOW)
    assert actor.decide("request.review", body=None).reason == "expired"


def test_body_scoped_grant_never_covers_all_wales() -> None:
    actor = make_actor("p1", ("analyst", OWN_BODY))
    assert can(actor, "request.create", body=OWN_BODY)
    assert actor.decide("request.create", body=None).reason == "out_of_scope"
    assert can(actor, "policy.read", body=OTHER_BODY)  # not body-scoped


@pytest.mark.parametrize(
    ("role", "body", "problem"),
    [
        ("data_manager", None, "must be granted for one body"),
        ("admin", OWN_BODY, "all Wales only"),
        ("publisher", OWN_BODY, "all Wales only"),
        ("superuser", None, "unknown role 'superuser'"),
    ],
)
def test_grant_that_breaks_the_role_rule_is_refused_and_never_allows(
    role: str, body: str | None, problem: str
) -> None:
    grant = make_grant("p1", role, body)
    with pytest.raises(PolicyError, match=problem) as raised:
        validate_grant(grant, ACCESS)
    assert f"grant {grant.id}" in str(raised.value)
    assert str(POLICY_FILE) in str(raised.value)
    actor = Subject(Principal("p1", "x"), (grant,), ACCESS, NOW)
    assert not [p for p in PERMISSIONS if can(actor, p, body=OWN_BODY)]
    held = ACCESS.permissions_of(role)
    reasons = {actor.decide(p, body=OWN_BODY).reason for p in PERMISSIONS}
    assert reasons == ({"invalid_grant", "no_grant"} if held else {"invalid_grant"})


def test_check_raises_naming_permission_and_reason_only() -> None:
    actor = make_actor("p-7", ("analyst", OWN_BODY))
    with pytest.raises(AccessDeniedError) as raised:
        check(actor, "request.review", body=OWN_BODY)
    error = raised.value
    assert str(error) == "access denied: request.review for body 7A1: no_grant"
    assert (error.permission, error.reason, error.exit_code) == (
        "request.review",
        "no_grant",
        13,
    )
    assert check(actor, "request.create", body=OWN_BODY).allowed
    with pytest.raises(AccessDeniedError) as raised:
        check(actor, "grant.manage", body=OWN_BODY)
    assert str(raised.value) == "access denied: grant.manage: no_grant"
    with pytest.raises(AccessDeniedError) as raised:
        check(actor, "data.read", body=None)
    assert (
        str(raised.value)
        == "access denied: data.read for all Wales: unknown_permission"
    )


def test_principal_name_is_not_in_repr() -> None:
    principal = Principal("p1", name="Cerys Pritchard")
    assert "Cerys" not in repr(principal)
    assert "Cerys" not in repr(Subject(principal, (), ACCESS, NOW))


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 129, "é"])
def test_principal_id_is_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="principal id"):
        Principal(bad, "x")


def test_wiring_mistakes_raise() -> None:
    grant = make_grant("someone-else", "analyst")
    with pytest.raises(ValueError, match="does not belong"):
        decide(
            Principal("p1", "x"),
            [grant],
            "policy.read",
            body=None,
            now=NOW,
            policy=ACCESS,
        )
    with pytest.raises(ValueError, match="does not belong"):
        Subject(Principal("p1", "x"), (grant,), ACCESS, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(
            Principal("p1", "x"),
            [],
            "policy.read",
            body=None,
            now=NOW.replace(tzinfo=None),
            policy=ACCESS,
        )
    with pytest.raises(ValueError, match="body code"):
        decide(
            Principal("p1", "x"), [], "policy.read", body="7a1", now=NOW, policy=ACCESS
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        Grant("p1", "analyst", None, valid_from=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="after its valid_from"):
        Grant("p1", "analyst", None, valid_from=NOW, valid_until=NOW)


def test_grant_status_boundaries() -> None:
    grant = make_grant(
        "p1",
        "analyst",
        valid_from=NOW,
        valid_until=NOW + YEAR,
        revoked_at=NOW + 2 * YEAR,
    )
    assert grant.status(NOW - timedelta(microseconds=1)) == "not_yet_valid"
    assert grant.status(NOW) == "live"
    assert grant.status(NOW + YEAR - timedelta(microseconds=1)) == "live"
    assert grant.status(NOW + YEAR) == "expired"
    assert grant.status(NOW + 2 * YEAR) == "revoked"


def test_nobody_reviews_their_own_request() -> None:
    check_not_requester("officer", "analyst-1", action="request.review")
    assert can_review("officer", "analyst-1") and not can_review("a", "a")
    with pytest.raises(AccessDeniedError, match="own_request") as raised:
        check_not_requester("analyst-1", "analyst-1", action="request.review")
    assert raised.value.reason == "own_request"


class TestAssign:
    admin = make_actor("root", "admin")

    def test_admin_assigns_a_role(self) -> None:
        grant = make_grant("p2", "data_manager", OWN_BODY)
        assert check_can_assign(self.admin, grant, []).allowed
        assert can_assign(self.admin, grant, [make_grant("p2", "analyst")])

    def test_only_grant_managers_assign(self) -> None:
        officer = make_actor("ig", "ig_officer")
        with pytest.raises(AccessDeniedError, match=r"grant\.manage"):
            check_can_assign(officer, make_grant("p2", "analyst"), [])

    def test_nobody_grants_themselves(self) -> None:
        with pytest.raises(AccessDeniedError, match="self_grant"):
            check_can_assign(self.admin, make_grant("root", "analyst"), [])

    def test_body_rule_applies(self) -> None:
        with pytest.raises(PolicyError, match="one body"):
            check_can_assign(self.admin, make_grant("p2", "data_manager"), [])
        assert not can_assign(self.admin, make_grant("p2", "data_manager"), [])

    @pytest.mark.parametrize(
        ("held", "new"),
        [("admin", "ig_officer"), ("ig_officer", "admin"), ("analyst", "admin")],
    )
    def test_administration_never_joins_data_or_oversight(
        self, held: str, new: str
    ) -> None:
        existing = [make_grant("p2", held)]
        with pytest.raises(AccessDeniedError, match="role_conflict") as raised:
            check_can_assign(self.admin, make_grant("p2", new), existing)
        assert raised.value.reason == "role_conflict"

    def test_future_grants_count_and_dead_ones_do_not(self) -> None:
        future = make_grant(
            "p2", "admin", valid_from=NOW + YEAR, valid_until=NOW + 2 * YEAR
        )
        assert not can_assign(self.admin, make_grant("p2", "ig_officer"), [future])
        expired = make_grant(
            "p2", "admin", valid_from=NOW - 2 * YEAR, valid_until=NOW - YEAR
        )
        revoked = make_grant("p2", "admin", revoked_at=NOW - YEAR / 2)
        new = make_grant("p2", "ig_officer")
        assert can_assign(self.admin, new, [expired, revoked])

    def test_existing_grants_must_be_the_grantees(self) -> None:
        with pytest.raises(ValueError, match="grantee"):
            check_can_assign(
                self.admin, make_grant("p2", "analyst"), [make_grant("p3", "analyst")]
            )


# -- loading the policy -------------------------------------------------------------


def policy_mapping(**roles: dict[str, Any]) -> dict[str, Any]:
    merged = {name: dict(spec) for name, spec in RAW_ROLES.items()}
    merged.update(roles)
    return {"id": "access", "version": 1, "access": {"roles": merged}}


def write_policy(tmp_path: Path, text: str) -> Path:
    (tmp_path / "access.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_load_from_a_directory(tmp_path: Path) -> None:
    write_policy(tmp_path, yaml.safe_dump(policy_mapping()))
    policy = load_access_policy(tmp_path)
    assert policy.source == str(tmp_path / "access.yaml")
    assert policy.roles_with("request.review") == ("ig_officer",)
    assert policy.role("nobody") is None and policy.permissions_of("nobody") == set()


def test_in_memory_policy_is_pinned_by_content() -> None:
    one = access_policy_from_mapping(policy_mapping())
    two = access_policy_from_mapping(policy_mapping())
    analyst = dict(RAW_ROLES["analyst"], description="Changed.")
    three = access_policy_from_mapping(policy_mapping(analyst=analyst))
    assert one.sha256 == two.sha256 != three.sha256


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"analyst": {**RAW_ROLES["analyst"], "permissions": ["request.creat"]}},
            (
                "key 'access.roles.analyst.permissions.0': unknown permission"
                " 'request.creat'"
            ),
        ),
        (
            {"ig_oficer": RAW_ROLES["ig_officer"]},
            "unknown key 'access.roles.ig_oficer'",
        ),
        (
            {"analyst": {**RAW_ROLES["analyst"], "permissions": ["policy.read"] * 2}},
            ("key 'access.roles.analyst.permissions': a permission is listed twice"),
        ),
        (
            {
                "admin": {
                    **RAW_ROLES["admin"],
                    "permissions": ["grant.manage", "request.review"],
                }
            },
            (
                "key 'access.roles.admin': grant.manage (administration) may not be"
                " combined with request.review (oversight) in one role"
            ),
        ),
        (
            {
                "admin": {
                    **RAW_ROLES["admin"],
                    "permissions": ["key.manage", "release.read"],
                }
            },
            "key.manage (administration) may not be combined with release.read (data)",
        ),
        (
            {"analyst": {**RAW_ROLES["analyst"], "body_scope": "sometimes"}},
            "key 'access.roles.analyst.body_scope'",
        ),
        (
            {"analyst": {**RAW_ROLES["analyst"], "colour": "blue"}},
            "unknown key 'access.roles.analyst.colour'",
        ),
    ],
)
def test_bad_policy_is_refused_naming_file_and_key(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    write_policy(tmp_path, yaml.safe_dump(policy_mapping(**change)))
    with pytest.raises(PolicyError) as raised:
        load_access_policy(tmp_path)
    text = str(raised.value)
    assert text.startswith(f"{tmp_path / 'access.yaml'}: ")
    assert message in text


def test_missing_role_is_refused(tmp_path: Path) -> None:
    mapping = policy_mapping()
    del mapping["access"]["roles"]["downstream"]
    write_policy(tmp_path, yaml.safe_dump(mapping))
    with pytest.raises(PolicyError, match=r"missing key 'access\.roles\.downstream'"):
        load_access_policy(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: access\nversion: 1\nversion: 2\naccess: {}\n",
            "key 'version' is given twice",
        ),
        ("id: other\nversion: 1\n", "key 'id' must be 'access'"),
        ("- a list\n", "must be a mapping"),
        ("id: access\nversion: [\n", r"not valid YAML \(line"),
        ("id: access\nversion: '1'\naccess: {roles: {}}\n", "key 'version'"),
        ("id: access\nversion: 1\n", "missing key 'access'"),
        ("id: access\n? [a, b]\n: 1\n", "not valid YAML"),
    ],
)
def test_malformed_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    write_policy(tmp_path, text)
    with pytest.raises(PolicyError, match=message):
        load_access_policy(tmp_path)


def test_unreadable_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_access_policy(tmp_path)
    (tmp_path / "access.yaml").write_bytes(b"id: access\n\xff\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_access_policy(tmp_path)
    (tmp_path / "access.yaml").unlink()
    (tmp_path / "access.yaml").mkdir()
    with pytest.raises(PolicyError, match="cannot be read"):
        load_access_policy(tmp_path)
