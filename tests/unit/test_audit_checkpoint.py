"""Unit tests for signed notes, checkpoints, checkpoint files and checkpoint keys."""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import (
    AuditKeyError,
    ChainHead,
    Checkpoint,
    CheckpointFormatError,
    CheckpointSignatureError,
    SignedNote,
    SigningKey,
    VerifierKey,
    checkpoint_path,
    generate_signing_key,
    key_id,
    load_signing_key,
    parse_checkpoint,
    parse_note,
    read_checkpoint_file,
    read_checkpoint_files,
    read_verifier_keys,
    sign_checkpoint,
    write_checkpoint_file,
)

ORIGIN = "wresgov.test/audit"
HEAD = ChainHead(42, hashlib.sha256(b"head").digest())

# The published example of golang.org/x/mod/sumdb/note (package documentation): a
# signer key, its verifier key, a text, and the signed note Go produces for them.
GO_SIGNER = (
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
)
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
    "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def go_key() -> SigningKey:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert seed[0] == 1  # Ed25519 type byte
    return SigningKey("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed[1:]))


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate(ORIGIN)


# --- interoperability with the reference implementation ----------------------------


def test_signatures_match_go_sumdb_note() -> None:
    signer = go_key()
    assert signer.public_key.to_text() == GO_VERIFIER
    assert signer.key_id.hex() == "c74f20a3"
    assert SignedNote(GO_TEXT).signed(signer).to_text() == GO_NOTE
    note = parse_note(GO_NOTE.encode("utf-8"))
    assert note.text == GO_TEXT
    assert note.is_signed_by([VerifierKey.from_text(GO_VERIFIER)])


def test_key_id_follows_c2sp() -> None:
    public = bytes(range(32))
    expected = hashlib.sha256(b"example.com/log\n\x01" + public).digest()[:4]
    assert key_id("example.com/log", public) == expected


# --- checkpoint format -------------------------------------------------------------


def test_checkpoint_text_layout(key: SigningKey) -> None:
    checkpoint = sign_checkpoint(HEAD, key)
    text = checkpoint.to_text()
    body, signatures = text.split("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        "42",
        base64.b64encode(HEAD.head_hash).decode(),
    ]
    name, payload = signatures.removeprefix("\u2014 ").rstrip("\n").split(" ")
    raw = base64.b64decode(payload)
    assert name == ORIGIN
    assert raw[:4] == key.key_id
    assert len(raw) == 4 + 64
    assert checkpoint.chain_head == HEAD


def test_checkpoint_round_trips_with_extensions(key: SigningKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, HEAD.head_hash, extensions=("ext one",))
    signed = checkpoint.cosigned(key)
    parsed = parse_checkpoint(signed.to_text())
    assert parsed == signed
    assert parsed.extensions == ("ext one",)
    assert parsed.is_signed_by([key.public_key])
    tampered = signed.to_text().replace("ext one", "ext two")
    assert not parse_checkpoint(tampered).is_signed_by([key.public_key])


def test_origin_defaults_to_key_name_and_must_be_a_name(key: SigningKey) -> None:
    assert sign_checkpoint(HEAD, key).origin == ORIGIN
    assert sign_checkpoint(HEAD, key, origin="other.example/x").origin != ORIGIN
    with pytest.raises(AuditKeyError):
        sign_checkpoint(HEAD, key, origin="has space")


@pytest.mark.parametrize(
    "text",
    [
        "o\n1\nAA==\n— o AAAAAAAA\n",  # no blank line
        "o\n1\nAA==\n\n",  # no signature line
        "o\n1\nAA==\n\n— o AAAAAAAA",  # signature line not newline-ended
        "o\n1\nAA==\n\n- o AAAAAAAA\n",  # hyphen, not em dash
        "o\n1\nAA==\n\n— o not*base64\n",
        "o\n1\nAA==\n\n— o AAAA\n",  # too short for id + signature
        "o\n1\nAA==\n\n— bad+name AAAAAAAA\n",
        "o\n1\r\nAA==\n\n— o AAAAAAAA\n",  # control character
    ],
)
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(CheckpointFormatError):
        parse_note(text)


def test_note_limits() -> None:
    with pytest.raises(CheckpointFormatError, match="UTF-8"):
        parse_note(b"\xff\n\n\xe2\x80\x94 o AAAAAAAA\n")
    with pytest.raises(CheckpointFormatError, match="too large"):
        parse_note(b"x" * (64 * 1024 + 1))
    with pytest.raises(CheckpointFormatError, match="too large"):
        parse_note("x" * (64 * 1024 + 1))
    many = "t\n\n" + "— o AAAAAAAA\n" * 101
    with pytest.raises(CheckpointFormatError, match="too many"):
        parse_note(many)
    with pytest.raises(CheckpointFormatError, match="newline"):
        SignedNote("no newline").signed(SigningKey.generate("k"))


def good_body(size: str = "5", head: str | None = None) -> str:
    head = head if head is not None else base64.b64encode(bytes(32)).decode()
    return f"{ORIGIN}\n{size}\n{head}\n"


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n",  # too few lines
        good_body(size="05"),  # leading zero
        good_body(size="-5"),
        good_body(size="5.0"),
        good_body(size=str(2**63)),
        good_body(head=base64.b64encode(bytes(31)).decode()),  # not 32 bytes
        good_body(head="not base64!"),
        good_body(head=base64.b64encode(bytes(32)).decode().rstrip("=")),
        good_body() + "\n",  # an empty extension line means a second blank line
        good_body(size="0", head=base64.b64encode(b"\x01" * 32).decode()),
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str, key: SigningKey) -> None:
    text = SignedNote(body).signed(key).to_text()
    with pytest.raises(CheckpointFormatError):
        parse_checkpoint(text)


def test_checkpoint_constructor_checks_fields() -> None:
    with pytest.raises(CheckpointFormatError, match="origin"):
        Checkpoint("two\nlines", 1, bytes(32))
    with pytest.raises(CheckpointFormatError, match="size"):
        Checkpoint(ORIGIN, -1, bytes(32))
    with pytest.raises(CheckpointFormatError, match="head"):
        Checkpoint(ORIGIN, 1, bytes(31))
    with pytest.raises(CheckpointFormatError, match="extension"):
        Checkpoint(ORIGIN, 1, bytes(32), extensions=("",))


# --- signature rules (c2sp.org/signed-note) ----------------------------------------


def test_signature_rules(key: SigningKey) -> None:
    trusted = [key.public_key]
    checkpoint = sign_checkpoint(HEAD, key)
    stranger = SigningKey.generate("witness.example/w1")
    same_name = SigningKey.generate(ORIGIN)

    assert checkpoint.is_signed_by(trusted)
    assert checkpoint.cosigned(stranger).is_signed_by(trusted)  # unknown: ignored
    assert not sign_checkpoint(HEAD, stranger, ORIGIN).is_signed_by(trusted)
    assert not sign_checkpoint(HEAD, same_name).is_signed_by(trusted)  # other key id
    assert checkpoint.cosigned(stranger).is_signed_by([stranger.public_key])

    (good,) = checkpoint.signatures
    forged = good.signature[:-1] + bytes([good.signature[-1] ^ 1])
    bad = Checkpoint(
        ORIGIN, 42, HEAD.head_hash, (type(good)(good.name, good.key_id, forged),)
    )
    assert not bad.is_signed_by(trusted)
    # A failing signature by a trusted key rejects the note even beside a good one.
    rotated = SigningKey.generate(ORIGIN)
    mixed = Checkpoint(
        ORIGIN,
        42,
        HEAD.head_hash,
        (*bad.signatures, *sign_checkpoint(HEAD, rotated).signatures),
    )
    assert not mixed.is_signed_by([key.public_key, rotated.public_key])
    with pytest.raises(CheckpointSignatureError, match="size 42"):
        bad.check_signed_by(trusted)
    checkpoint.check_signed_by(trusted)


def test_cosigning_twice_with_one_key_keeps_one_signature(key: SigningKey) -> None:
    checkpoint = sign_checkpoint(HEAD, key).cosigned(key)
    assert len(checkpoint.signatures) == 1


# --- checkpoint files --------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_and_read_checkpoint_files(tmp_path: Path, key: SigningKey) -> None:
    directory = tmp_path / "checkpoints"
    later = sign_checkpoint(HEAD, key)
    earlier = sign_checkpoint(ChainHead(3, bytes(range(32))), key)
    path = write_checkpoint_file(directory, later)
    write_checkpoint_file(directory, earlier)
    assert (
        path
        == checkpoint_path(directory, 42)
        == directory / "checkpoint-000000000042.txt"
    )
    assert mode(directory) == 0o700
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == later.to_text()
    assert read_checkpoint_files(directory) == [earlier, later]
    assert read_checkpoint_file(path) == later
    assert sorted(p.name for p in directory.iterdir()) == [
        "checkpoint-000000000003.txt",
        "checkpoint-000000000042.txt",
    ]  # no temporary file left behind


def test_same_checkpoint_twice_is_a_no_op_but_a_different_one_is_refused(
    tmp_path: Path, key: SigningKey
) -> None:
    checkpoint = sign_checkpoint(HEAD, key)
    path = write_checkpoint_file(tmp_path, checkpoint)
    assert write_checkpoint_file(tmp_path, checkpoint) == path
    fork = sign_checkpoint(ChainHead(42, bytes(32)), key)
    with pytest.raises(CheckpointFormatError, match="different checkpoint"):
        write_checkpoint_file(tmp_path, fork)
    assert read_checkpoint_file(path) == checkpoint


def test_a_failed_write_leaves_no_temporary_file(
    tmp_path: Path, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(
        CheckpointFormatError, match=r"cannot write checkpoint \(OSError\)"
    ):
        write_checkpoint_file(tmp_path, sign_checkpoint(HEAD, key))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_is_reported(tmp_path: Path, key: SigningKey) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CheckpointFormatError, match="cannot write"):
        write_checkpoint_file(blocker / "sub", sign_checkpoint(HEAD, key))


def test_reading_refuses_bad_checkpoint_files(tmp_path: Path, key: SigningKey) -> None:
    with pytest.raises(CheckpointFormatError, match="does not exist"):
        read_checkpoint_files(tmp_path / "missing")
    (tmp_path / ".checkpoint-abc.tmp").write_text("partial")
    (tmp_path / "README").write_text("ignored")
    assert read_checkpoint_files(tmp_path) == []

    misnamed = tmp_path / "checkpoint-000000000007.txt"
    misnamed.write_text(sign_checkpoint(HEAD, key).to_text())
    with pytest.raises(CheckpointFormatError, match="size in the file name"):
        read_checkpoint_files(tmp_path)
    misnamed.write_text("garbage")
    with pytest.raises(CheckpointFormatError, match=r"checkpoint-000000000007\.txt"):
        read_checkpoint_files(tmp_path)
    misnamed.unlink()
    (tmp_path / "checkpoint-7.txt").write_text("short name")
    with pytest.raises(CheckpointFormatError, match="not a checkpoint file name"):
        read_checkpoint_files(tmp_path)
    with pytest.raises(CheckpointFormatError, match="cannot read"):
        read_checkpoint_file(tmp_path / "checkpoint-000000000001.txt")


# --- keys --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["pem", "raw"])
def test_generate_and_load_signing_key(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "keys" / "audit-checkpoint.key"
    created = generate_signing_key(path, ORIGIN, encoding=encoding)  # type: ignore[arg-type]
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    loaded = load_signing_key(path, ORIGIN)
    assert loaded.public_key == created.public_key
    checkpoint = sign_checkpoint(HEAD, loaded)
    assert checkpoint.is_signed_by([created.public_key])


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    generate_signing_key(path, ORIGIN)
    before = path.read_bytes()
    with pytest.raises(AuditKeyError, match="refusing to overwrite"):
        generate_signing_key(path, ORIGIN)
    assert path.read_bytes() == before


def test_loading_refuses_unsafe_or_wrong_key_files(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    generate_signing_key(path, ORIGIN)
    os.chmod(path, 0o640)
    with pytest.raises(AuditKeyError, match="group or others"):
        load_signing_key(path, ORIGIN)
    with pytest.raises(AuditKeyError, match="cannot read"):
        load_signing_key(tmp_path / "absent", ORIGIN)
    with pytest.raises(AuditKeyError, match="not a regular file"):
        load_signing_key(tmp_path, ORIGIN)

    def private_file(name: str, data: bytes) -> Path:
        target = tmp_path / name
        target.write_bytes(data)
        os.chmod(target, 0o600)
        return target

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(AuditKeyError, match="not an Ed25519"):
        load_signing_key(private_file("ec.pem", ec_pem), ORIGIN)
    with pytest.raises(AuditKeyError, match="unencrypted PEM"):
        load_signing_key(
            private_file("bad.pem", b"-----BEGIN PRIVATE KEY-----\nxx\n"), ORIGIN
        )
    with pytest.raises(AuditKeyError, match="raw 32-byte"):
        load_signing_key(private_file("short.key", b"\x01" * 31), ORIGIN)


def test_private_key_never_shows(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    key = generate_signing_key(path, ORIGIN, encoding="raw")
    secret = path.read_bytes()
    shown = repr(key) + str(key)
    for form in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
        assert form not in shown
    assert key.key_id.hex() in shown
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(key)


def test_key_names_are_checked() -> None:
    for name in ("", "a b", "a+b", "tab\there", "nl\n"):
        with pytest.raises(AuditKeyError):
            SigningKey.generate(name)


def test_verifier_key_text_and_pem_round_trip(key: SigningKey) -> None:
    public = key.public_key
    assert VerifierKey.from_text(public.to_text()) == public
    assert VerifierKey.from_pem(ORIGIN, public.to_pem()) == public
    assert public.to_text() in repr(public)


@pytest.mark.parametrize(
    "text",
    [
        "name-only",
        "name+zzzzzzzz+AQ==",
        "name+c74f20a3+not base64",
        "PeterNeumann+c74f20a3+AhpjZHEHFDw4TEHoMMW84SqogX7FZJqqvywxOIs1stdE1g==",
        "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
    ],
)
def test_bad_verifier_keys_are_refused(text: str) -> None:
    with pytest.raises(AuditKeyError):
        VerifierKey.from_text(text)


def test_verifier_key_pem_must_be_ed25519() -> None:
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(AuditKeyError, match="not an Ed25519"):
        VerifierKey.from_pem(ORIGIN, pem)
    with pytest.raises(AuditKeyError, match="not a PEM"):
        VerifierKey.from_pem(ORIGIN, b"junk")
    with pytest.raises(AuditKeyError, match="32 bytes"):
        VerifierKey(ORIGIN, b"short")


def test_read_verifier_keys(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "trusted-keys.txt"
    path.write_text(
        f"# audit checkpoint keys\n\n{key.public_key.to_text()}\n{GO_VERIFIER}\n"
    )
    assert read_verifier_keys(path) == [
        key.public_key,
        VerifierKey.from_text(GO_VERIFIER),
    ]
    path.write_text(f"{GO_VERIFIER}\nnot-a-key\n")
    with pytest.raises(AuditKeyError, match="line 2"):
        read_verifier_keys(path)
    with pytest.raises(AuditKeyError, match="cannot read"):
        read_verifier_keys(tmp_path / "absent.txt")
