"""Offline verification of a release directory, and the manifest signature format.

Owns the file names every release shares, the signature file (``manifest.sig``), the
rule for a safe artefact path, and :func:`verify_release`. Verification trusts only
the keys the caller passes: ``release-key.pub`` inside the directory is an artefact
like any other (hashed, never trusted). It checks, and reports every failure found:

- ``manifest.sig`` is in canonical form and is a valid Ed25519 signature, by a
  trusted key, over the exact bytes of ``manifest.json``, and names the key that
  ``manifest.json`` itself records;
- ``manifest.json`` is a release manifest whose artefact paths are safe;
- every listed artefact is a regular file (never followed through a symbolic link)
  with the listed size and SHA-256, and no other file or directory is present;
- the directory holds no ``UNCOMMITTED`` marker: a service export writes one and
  removes it only after the store has recorded the release, so a directory left by
  an export that was killed before its commit never verifies.

Pure apart from reading the directory it is given; never writes, prints or logs.
Problems name artefact paths, never file contents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from audit.keys import SigningKey, VerifierKey

RELEASE_FORMAT: Final = "wresgov-release/1"
MANIFEST_NAME: Final = "manifest.json"
SIGNATURE_NAME: Final = "manifest.sig"
PUBLIC_KEY_NAME: Final = "release-key.pub"
SIGNATURE_ALGORITHM: Final = "ed25519"
UNLISTED: Final = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
UNCOMMITTED_NAME: Final = "UNCOMMITTED"
"""Present while the store has not recorded the release (see ``release.py``)."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_FORBIDDEN_PATH_CHARS = frozenset('\\:*?"<>|')

ProblemKind = Literal[
    "not_a_directory",
    "missing_file",
    "unlisted_file",
    "not_a_regular_file",
    "size_mismatch",
    "hash_mismatch",
    "manifest_invalid",
    "signature_invalid",
    "untrusted_key",
    "unreadable",
    "uncommitted",
]


def canonical_json(value: object) -> bytes:
    """JSON as releases write it: sorted keys, 2-space indent, UTF-8, final newline."""
    text = json.dumps(
        value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


def artefact_path_problem(path: object) -> str | None:
    """Why ``path`` is not a safe relative artefact path, or ``None`` if it is.

    Safe: a non-empty relative POSIX path of plain components (no ``.`` or ``..``, no
    empty component, no backslash, colon, wildcard or control character).
    """
    if not isinstance(path, str) or not path:
        return "is empty or not text"
    if path.startswith("/"):
        return "is absolute"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return "has a control character"
    if any(ch in _FORBIDDEN_PATH_CHARS for ch in path):
        return "has a backslash, colon or wildcard"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' component"
    if any(len(part.encode("utf-8")) > 255 for part in parts):
        return "has a component longer than 255 bytes"
    return None


@dataclass(frozen=True, slots=True)
class ManifestSignature:
    """The content of ``manifest.sig``."""

    key_name: str
    key_id: str
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "algorithm": SIGNATURE_ALGORITHM,
                "key_id": self.key_id,
                "key_name": self.key_name,
                "signature": base64.b64encode(self.signature).decode("ascii"),
                "signed_file": MANIFEST_NAME,
            }
        )


def sign_manifest(key: SigningKey, manifest: bytes) -> ManifestSignature:
    """Sign the exact bytes of ``manifest.json`` with ``key``."""
    return ManifestSignature(key.name, key.key_id.hex(), key.sign(manifest))


def parse_signature(data: bytes) -> ManifestSignature:
    """Read ``manifest.sig``, which must be exactly in canonical form.

    Raises:
        ValueError: malformed, another algorithm, or not byte-for-byte canonical.
    """
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("is not UTF-8 JSON") from None
    expected = {"algorithm", "key_id", "key_name", "signature", "signed_file"}
    if not isinstance(fields, dict) or set(fields) != expected:
        raise ValueError("does not have exactly the signature fields")
    if fields["algorithm"] != SIGNATURE_ALGORITHM:
        raise ValueError("is not an Ed25519 signature")
    if fields["signed_file"] != MANIFEST_NAME:
        raise ValueError(f"does not sign {MANIFEST_NAME}")
    name, key_id, encoded = fields["key_name"], fields["key_id"], fields["signature"]
    if not isinstance(name, str) or not name:
        raise ValueError("has no key name")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("has a malformed key id")
    try:
        signature = base64.b64decode(str(encoded), validate=True)
    except binascii.Error:
        raise ValueError("has a malformed signature") from None
    if len(signature) != 64:
        raise ValueError("has a signature of the wrong length")
    parsed = ManifestSignature(name, key_id, signature)
    if parsed.to_bytes() != data:
        raise ValueError("is not in canonical form")
    return parsed


@dataclass(frozen=True, slots=True)
class ReleaseProblem:
    kind: ProblemKind
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class ReleaseVerification:
    """What :func:`verify_release` found; ``ok`` only if there is no problem at all."""

    directory: Path
    problems: tuple[ReleaseProblem, ...]
    release_id: str | None = None
    manifest_sha256: str | None = None
    key: VerifierKey | None = None
    """The trusted key whose signature verified, if one did."""
    artefacts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.key is not None


@dataclass(frozen=True, slots=True)
class _Listed:
    path: str
    size: int
    sha256: str


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice")
    return dict(pairs)


def _scan(directory: Path) -> tuple[set[str], list[str], list[str]]:
    """Regular files, other entries (links, devices) and empty directories, relative."""
    files: set[str] = set()
    odd: list[str] = []
    empty: list[str] = []
    pending = [(os.fspath(directory), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            found = sorted(entries, key=lambda e: e.name)
        if not found and prefix:
            empty.append(prefix.rstrip("/"))
        for entry in found:
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, relative + "/"))
            elif entry.is_file(follow_symlinks=False):
                files.add(relative)
            else:
                odd.append(relative)
    return files, sorted(odd), sorted(empty)


def _open(path: str) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))


def _read(path: str) -> bytes:
    with os.fdopen(_open(path), "rb") as handle:
        return handle.read()


def _digest(path: str) -> tuple[int, str]:
    with os.fdopen(_open(path), "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return size, hashlib.file_digest(handle, "sha256").hexdigest()


def _parse_manifest(data: bytes) -> tuple[dict[str, object], list[_Listed]]:
    """Parse and check the manifest's shape.

    Raises:
        TypeError, ValueError: the message says what is wrong (never a value).
    """
    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8") from None
    except json.JSONDecodeError:
        raise ValueError("is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != RELEASE_FORMAT:
        raise ValueError(f"is not a {RELEASE_FORMAT} manifest")
    entries = manifest.get("artefacts")
    if not isinstance(entries, list):
        raise TypeError("has no artefact list")
    listed: list[_Listed] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or set(entry) != {"path", "size", "sha256"}:
            raise ValueError(f"artefact {number} is malformed")
        path, size, digest = entry["path"], entry["size"], entry["sha256"]
        problem = artefact_path_problem(path)
        if problem is not None or not isinstance(path, str):
            raise ValueError(f"artefact {number}: path {problem}")
        if path in UNLISTED or path == UNCOMMITTED_NAME or path in seen:
            raise ValueError(f"artefact {number}: path is reserved or listed twice")
        if type(size) is not int or size < 0:
            raise ValueError(f"artefact {number}: size is not a whole number")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError(f"artefact {number}: sha256 is malformed")
        seen.add(path)
        listed.append(_Listed(path, size, digest))
    return manifest, listed


def _check_signature(
    manifest: bytes, sig_data: bytes, trusted: Sequence[VerifierKey]
) -> tuple[VerifierKey | None, ManifestSignature | None, ReleaseProblem | None]:
    try:
        signature = parse_signature(sig_data)
    except ValueError as exc:
        return None, None, ReleaseProblem("signature_invalid", SIGNATURE_NAME, str(exc))
    candidates = [
        k
        for k in trusted
        if k.key_id.hex() == signature.key_id and k.name == signature.key_name
    ]
    if not candidates:
        return (
            None,
            signature,
            ReleaseProblem(
                "untrusted_key",
                SIGNATURE_NAME,
                f"signed by key {signature.key_name}+{signature.key_id},"
                " which is not a trusted release key",
            ),
        )
    for key in candidates:
        if key.verify(manifest, signature.signature):
            return key, signature, None
    return (
        None,
        signature,
        ReleaseProblem(
            "signature_invalid",
            SIGNATURE_NAME,
            f"is not a valid signature of {MANIFEST_NAME} by the trusted key",
        ),
    )


def verify_release(
    directory: Path, trusted_keys: Sequence[VerifierKey]
) -> ReleaseVerification:
    """Check a release directory offline against the trusted release keys.

    Never raises for a bad release: every failure is a :class:`ReleaseProblem`. A
    file or directory that cannot be read (permissions, a disk error) fails the
    whole verification with one ``unreadable`` problem.
    """
    try:
        return _verify(directory, trusted_keys)
    except OSError:
        problem = ReleaseProblem(
            "unreadable", str(directory), "a file or directory could not be read"
        )
        return ReleaseVerification(directory, (problem,))


def _verify(
    directory: Path, trusted_keys: Sequence[VerifierKey]
) -> ReleaseVerification:
    if directory.is_symlink() or not directory.is_dir():
        problem = ReleaseProblem(
            "not_a_directory", str(directory), "is not a directory"
        )
        return ReleaseVerification(directory, (problem,))
    problems: list[ReleaseProblem] = []
    files, odd, empty = _scan(directory)
    problems += [
        ReleaseProblem("not_a_regular_file", p, "is a link or special file")
        for p in odd
    ]
    problems += [
        ReleaseProblem("unlisted_file", p, "is a directory the manifest does not list")
        for p in empty
    ]
    if UNCOMMITTED_NAME in files:
        problems.append(
            ReleaseProblem(
                "uncommitted",
                UNCOMMITTED_NAME,
                "the export that wrote this directory had not committed it: it is"
                " a release only if the store lists it",
            )
        )
    for name in (MANIFEST_NAME, SIGNATURE_NAME):
        if name not in files and name not in odd:
            problems.append(ReleaseProblem("missing_file", name, "is missing"))
    if MANIFEST_NAME not in files:
        return ReleaseVerification(directory, tuple(problems))
    root = os.fspath(directory)
    manifest_bytes = _read(os.path.join(root, MANIFEST_NAME))
    result_sha = hashlib.sha256(manifest_bytes).hexdigest()
    key: VerifierKey | None = None
    signature: ManifestSignature | None = None
    if SIGNATURE_NAME in files:
        key, signature, bad = _check_signature(
            manifest_bytes, _read(os.path.join(root, SIGNATURE_NAME)), trusted_keys
        )
        if bad is not None:
            problems.append(bad)
    try:
        manifest, listed = _parse_manifest(manifest_bytes)
    except (TypeError, ValueError) as exc:
        problems.append(ReleaseProblem("manifest_invalid", MANIFEST_NAME, str(exc)))
        return ReleaseVerification(directory, tuple(problems), None, result_sha, key)
    recorded = manifest.get("signing_key")
    if signature is not None and (
        not isinstance(recorded, dict)
        or recorded.get("name") != signature.key_name
        or recorded.get("id") != signature.key_id
    ):
        problems.append(
            ReleaseProblem(
                "signature_invalid",
                SIGNATURE_NAME,
                f"names a key other than the one {MANIFEST_NAME} records",
            )
        )
    problems += _check_artefacts(root, files, odd, listed)
    release_id = manifest.get("release_id")
    return ReleaseVerification(
        directory,
        tuple(problems),
        release_id if isinstance(release_id, str) else None,
        result_sha,
        key,
        len(listed),
    )


def _check_artefacts(
    root: str, files: set[str], odd: list[str], listed: list[_Listed]
) -> list[ReleaseProblem]:
    problems: list[ReleaseProblem] = []
    for item in listed:
        if item.path not in files:
            if item.path not in odd:
                problems.append(ReleaseProblem("missing_file", item.path, "is missing"))
            continue
        size, digest = _digest(os.path.join(root, *item.path.split("/")))
        if size != item.size:
            problems.append(
                ReleaseProblem(
                    "size_mismatch", item.path, "has a size other than the manifest's"
                )
            )
        elif digest != item.sha256:
            problems.append(
                ReleaseProblem(
                    "hash_mismatch",
                    item.path,
                    "has a SHA-256 other than the manifest's",
                )
            )
    expected = {item.path for item in listed} | UNLISTED | {UNCOMMITTED_NAME}
    problems += [
        ReleaseProblem("unlisted_file", path, "is not listed in the manifest")
        for path in sorted(files - expected)
    ]
    return problems
