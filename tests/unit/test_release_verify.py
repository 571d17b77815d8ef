"""``verify_release``: any changed, missing or extra byte or file fails, offline."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from audit.keys import SigningKey
from governance.release import MANIFEST_NAME, SIGNATURE_NAME, write_release
from governance.release_verify import (
    UNCOMMITTED_NAME,
    ManifestSignature,
    canonical_json,
    sign_manifest,
    verify_release,
)
from tests.release_support import POLICY, cleared_set, release_info, signing_key

KEY = signing_key()
OTHER = SigningKey.generate("wresgov-release")
EXTRA = {"charts/staff.svg": b"<svg>chart</svg>", "report.html": b"<html>r</html>"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "rel"
    write_release(
        out,
        cleared=cleared_set(),
        info=release_info(),
        policy=POLICY,
        signing_key=KEY,
        extra_files=EXTRA,
    )
    return out


@pytest.fixture
def release(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "rel"
    shutil.copytree(pristine, copy)
    return copy


def kinds(directory: Path, keys: list[SigningKey] | None = None) -> list[str]:
    trusted = [k.public_key for k in (keys if keys is not None else [KEY])]
    result = verify_release(directory, trusted)
    assert result.ok == (not result.problems and result.key is not None)
    return [p.kind for p in result.problems]


def all_files(directory: Path) -> list[str]:
    return sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()
    )


def test_the_untouched_release_verifies(release: Path) -> None:
    assert kinds(release) == []


def flip_and_verify(release: Path, name: str, positions: list[int], flip: int) -> None:
    path = release / name
    original = path.read_bytes()
    for position in positions:
        changed = bytearray(original)
        changed[position] ^= flip
        path.write_bytes(bytes(changed))
        found = kinds(release)
        assert found, (name, position)
        if name not in (MANIFEST_NAME, SIGNATURE_NAME):
            assert found == ["hash_mismatch"], (name, position)
    path.write_bytes(original)


def test_every_byte_of_the_signature_matters(release: Path) -> None:
    size = (release / SIGNATURE_NAME).stat().st_size
    flip_and_verify(release, SIGNATURE_NAME, list(range(size)), 0x01)
    assert kinds(release) == []


def test_a_changed_byte_of_the_manifest_fails(release: Path) -> None:
    rng = random.Random(1)  # noqa: S311 - positions to flip, not a secret
    size = (release / MANIFEST_NAME).stat().st_size
    positions = sorted({0, size - 1, *rng.sample(range(size), 300)})
    flip_and_verify(release, MANIFEST_NAME, positions, 0x01)
    flip_and_verify(release, MANIFEST_NAME, positions[::10], 0xFF)
    assert kinds(release) == []


def test_a_changed_byte_anywhere_in_any_artefact_fails(release: Path) -> None:
    rng = random.Random(20250630)  # noqa: S311 - positions to flip, not a secret
    names = [n for n in all_files(release) if n not in (MANIFEST_NAME, SIGNATURE_NAME)]
    assert len(names) == 10
    for name in names:
        path = release / name
        original = path.read_bytes()
        size = len(original)
        positions = sorted({0, size - 1, *rng.sample(range(size), min(size, 40))})
        flip_and_verify(release, name, positions, rng.randrange(1, 256))
        path.write_bytes(original + b"\n")
        assert kinds(release) == ["size_mismatch"], name
        path.write_bytes(original[:-1])
        assert kinds(release) == ["size_mismatch"], name
        path.write_bytes(original)
    assert kinds(release) == []


def test_deleting_any_file_fails(release: Path, tmp_path: Path) -> None:
    for name in all_files(release):
        path = release / name
        original = path.read_bytes()
        path.unlink()
        assert "missing_file" in kinds(release), name
        path.write_bytes(original)
    assert kinds(release) == []


@pytest.mark.parametrize(
    "name", ["extra.txt", "tables/extra.csv", "charts/more.svg", ".hidden"]
)
def test_an_added_file_fails(release: Path, name: str) -> None:
    (release / name).write_bytes(b"x")
    assert kinds(release) == ["unlisted_file"]


def test_a_release_whose_export_did_not_commit_fails(release: Path) -> None:
    # what a service export leaves if it is killed between moving the directory
    # into place and committing the release to the store
    (release / UNCOMMITTED_NAME).write_bytes(b"not recorded")
    result = verify_release(release, [KEY.public_key])
    assert [(p.kind, p.path) for p in result.problems] == [
        ("uncommitted", UNCOMMITTED_NAME)
    ]
    assert not result.ok


def test_an_added_empty_directory_fails(release: Path) -> None:
    (release / "tables" / "new").mkdir()
    assert kinds(release) == ["unlisted_file"]


def test_an_artefact_replaced_by_a_link_fails(release: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.csv"
    csv = release / "tables" / "staff_by_grade.csv"
    target.write_bytes(csv.read_bytes())
    csv.unlink()
    csv.symlink_to(target)
    assert kinds(release) == ["not_a_regular_file"]


def test_a_directory_replaced_by_a_link_fails(release: Path, tmp_path: Path) -> None:
    moved = tmp_path / "charts"
    (release / "charts").rename(moved)
    (release / "charts").symlink_to(moved, target_is_directory=True)
    # the link itself, and the chart that is no longer inside the release
    assert kinds(release) == ["not_a_regular_file", "missing_file"]


def test_not_a_directory(tmp_path: Path, release: Path) -> None:
    assert kinds(tmp_path / "absent") == ["not_a_directory"]
    link = tmp_path / "link"
    link.symlink_to(release, target_is_directory=True)
    assert kinds(link) == ["not_a_directory"]


def test_a_release_with_no_manifest_fails(release: Path) -> None:
    (release / MANIFEST_NAME).unlink()
    (release / SIGNATURE_NAME).unlink()
    assert kinds(release) == ["missing_file", "missing_file"]


def test_a_manifest_signed_by_another_key_fails(release: Path) -> None:
    manifest = (release / MANIFEST_NAME).read_bytes()
    (release / SIGNATURE_NAME).write_bytes(sign_manifest(OTHER, manifest).to_bytes())
    assert kinds(release) == ["untrusted_key", "signature_invalid"]
    # even a trusted key is refused when the manifest records a different one
    assert kinds(release, [KEY, OTHER]) == ["signature_invalid"]


def test_a_forged_release_under_another_key_fails(release: Path) -> None:
    """An attacker edits a table, fixes the hashes and signs with their own key."""
    csv = release / "tables" / "staff_by_grade.csv"
    csv.write_bytes(csv.read_bytes().replace(b"<10", b"7", 1))
    manifest = json.loads((release / MANIFEST_NAME).read_bytes())
    for entry in manifest["artefacts"]:
        data = (release / entry["path"]).read_bytes()
        entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    manifest["signing_key"] = {"name": OTHER.name, "id": OTHER.key_id.hex()}
    raw = canonical_json(manifest)
    (release / MANIFEST_NAME).write_bytes(raw)
    (release / SIGNATURE_NAME).write_bytes(sign_manifest(OTHER, raw).to_bytes())
    assert kinds(release, [OTHER]) == []  # internally consistent...
    assert kinds(release) == ["untrusted_key"]  # ...but not by a trusted key


def test_a_signature_file_not_in_canonical_form_fails(release: Path) -> None:
    path = release / SIGNATURE_NAME
    fields = json.loads(path.read_bytes())
    path.write_bytes(json.dumps(fields).encode())
    assert kinds(release) == ["signature_invalid"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algorithm": "rsa"}, "not an Ed25519"),
        ({"signed_file": "other.json"}, "does not sign"),
        ({"key_id": "zz"}, "malformed key id"),
        ({"key_name": ""}, "no key name"),
        ({"signature": "!!"}, "malformed signature"),
        ({"signature": "AAAA"}, "wrong length"),
        ({"extra": 1}, "exactly the signature fields"),
    ],
)
def test_malformed_signature_files_are_reported(
    release: Path, change: dict[str, object], message: str
) -> None:
    path = release / SIGNATURE_NAME
    fields = json.loads(path.read_bytes()) | change
    path.write_bytes(canonical_json(fields))
    result = verify_release(release, [KEY.public_key])
    assert [p.kind for p in result.problems] == ["signature_invalid"]
    assert message in result.problems[0].message


def test_a_signed_manifest_with_an_unsafe_path_is_refused_unread(
    release: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret").write_bytes(b"s")
    manifest = json.loads((release / MANIFEST_NAME).read_bytes())
    manifest["artefacts"].append(
        {"path": "../secret", "size": 1, "sha256": hashlib.sha256(b"s").hexdigest()}
    )
    raw = canonical_json(manifest)
    (release / MANIFEST_NAME).write_bytes(raw)
    (release / SIGNATURE_NAME).write_bytes(sign_manifest(KEY, raw).to_bytes())
    result = verify_release(release, [KEY.public_key])
    assert [p.kind for p in result.problems] == ["manifest_invalid"]
    assert "'..'" in result.problems[0].message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m.update(format="other/1"), "not a wresgov-release/1"),
        (lambda m: m.pop("artefacts"), "no artefact list"),
        (lambda m: m["artefacts"].append({"path": "x"}), "is malformed"),
        (lambda m: m["artefacts"].append(m["artefacts"][0]), "listed twice"),
        (
            lambda m: m["artefacts"].append(
                {"path": MANIFEST_NAME, "size": 1, "sha256": "0" * 64}
            ),
            "reserved",
        ),
        (
            lambda m: m["artefacts"].append(
                {"path": UNCOMMITTED_NAME, "size": 1, "sha256": "0" * 64}
            ),
            "reserved",
        ),
        (lambda m: m["artefacts"][0].update(size=-1), "size"),
        (lambda m: m["artefacts"][0].update(size=True), "size"),
        (lambda m: m["artefacts"][0].update(sha256="AB" * 32), "sha256"),
    ],
)
def test_malformed_signed_manifests_are_reported(
    release: Path, mutate: object, message: str
) -> None:
    manifest = json.loads((release / MANIFEST_NAME).read_bytes())
    mutate(manifest)  # type: ignore[operator]
    raw = canonical_json(manifest)
    (release / MANIFEST_NAME).write_bytes(raw)
    (release / SIGNATURE_NAME).write_bytes(sign_manifest(KEY, raw).to_bytes())
    result = verify_release(release, [KEY.public_key])
    assert [p.kind for p in result.problems] == ["manifest_invalid"]
    assert message in result.problems[0].message


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", b"{not json", b"[]", b'{"format": 1, "format": 2}'],
)
def test_unreadable_manifests_are_reported(release: Path, raw: bytes) -> None:
    (release / MANIFEST_NAME).write_bytes(raw)
    (release / SIGNATURE_NAME).write_bytes(sign_manifest(KEY, raw).to_bytes())
    result = verify_release(release, [KEY.public_key])
    assert [p.kind for p in result.problems] == ["manifest_invalid"]


def test_problems_name_paths_and_never_contents(release: Path) -> None:
    csv = release / "tables" / "staff_by_grade.csv"
    csv.write_bytes(csv.read_bytes().replace(b"<10", b"007", 1))
    (release / "tables" / "staff_by_grade.structure.yaml").unlink()
    result = verify_release(release, [KEY.public_key])
    text = "\n".join(str(p) for p in result.problems)
    assert "tables/staff_by_grade.csv: has a SHA-256 other" in text
    assert "tables/staff_by_grade.structure.yaml: is missing" in text
    assert "Sales" not in text and "<10" not in text


def test_signature_round_trip() -> None:
    manifest = b"{}\n"
    signature = sign_manifest(KEY, manifest)
    assert isinstance(signature, ManifestSignature)
    assert KEY.public_key.verify(manifest, signature.signature)


def test_an_unreadable_file_fails_closed(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance import release_verify

    def refuse(path: str) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(release_verify, "_digest", refuse)
    result = verify_release(release, [KEY.public_key])
    assert not result.ok
    assert [p.kind for p in result.problems] == ["unreadable"]
