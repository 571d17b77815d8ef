"""Ed25519 keys for signing audit checkpoints, in the C2SP signed-note key conventions.

Owns :class:`SigningKey` (a private key with its key name), :class:`VerifierKey` (the
public half an IG officer keeps), the C2SP key ID, and the key files. A private key
never appears in a repr, an error message or a pickle; a key file is created only if
absent (never overwritten), with mode 0600, and is refused on load if group or others
can read it. This module never chooses where keys live: the caller passes paths.

Key ID (c2sp.org/signed-note, as in Go's ``golang.org/x/mod/sumdb/note``)::

    key_id = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]

Verifier key text, one line, the same as Go's ``note.NewVerifier`` reads::

    <key name>+<key id, 8 hex digits>+<base64(0x01 || public key)>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.errors import AuditKeyError

ED25519_TYPE: Final = b"\x01"
PUBLIC_KEY_SIZE: Final = 32
KEY_ID_SIZE: Final = 4


def check_key_name(name: str) -> None:
    """Refuse a key name the signed-note format cannot carry.

    Raises:
        AuditKeyError: empty, or contains a space, a control character or ``+``.
    """
    if (
        not isinstance(name, str)
        or not name
        or "+" in name
        or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)
    ):
        raise AuditKeyError(
            "key name must be non-empty, without spaces, control characters or '+'"
        )


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP key ID of an Ed25519 public key under ``name``."""
    check_key_name(name)
    material = name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A trusted public key and its name: what a verifier needs, and nothing secret."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.public_key) is not bytes or len(self.public_key) != 32:
            raise AuditKeyError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))

    def __repr__(self) -> str:
        return f"VerifierKey({self.to_text()!r})"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature, message
            )
        except InvalidSignature:
            return False
        return True

    def to_text(self) -> str:
        """The one-line verifier key text (``name+keyid+base64``)."""
        encoded = base64.b64encode(ED25519_TYPE + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_text(cls, text: str) -> VerifierKey:
        """Parse a verifier key line, checking that its key ID matches.

        Raises:
            AuditKeyError: malformed, not Ed25519, or the key ID does not match.
        """
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8:
            raise AuditKeyError("verifier key must read <name>+<8 hex>+<base64 key>")
        name, id_hex, encoded = parts
        try:
            claimed = bytes.fromhex(id_hex)
            material = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise AuditKeyError("verifier key has a malformed id or key") from None
        if material[:1] != ED25519_TYPE or len(material) != 1 + PUBLIC_KEY_SIZE:
            raise AuditKeyError("verifier key is not an Ed25519 key")
        key = cls(name, material[1:])
        if key.key_id != claimed:
            raise AuditKeyError(f"verifier key {name!r}: key id does not match key")
        return key

    def to_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM (the key name is not included)."""
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_pem(cls, name: str, data: bytes) -> VerifierKey:
        """Load a PEM public key and give it the key name it signs under.

        Raises:
            AuditKeyError: not a PEM Ed25519 public key.
        """
        try:
            public = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise AuditKeyError("not a PEM public key") from None
        if not isinstance(public, Ed25519PublicKey):
            raise AuditKeyError("public key is not an Ed25519 key")
        return cls(name, public.public_bytes_raw())


class SigningKey:
    """An Ed25519 private key and the name it signs under; never shown or pickled."""

    __slots__ = ("_name", "_private", "_public")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self._name = name
        self._private = private_key
        self._public = VerifierKey(name, private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A fresh key held only in memory (tests, or a caller with its own storage)."""
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._public.key_id

    @property
    def public_key(self) -> VerifierKey:
        """The verifier key to hand to IG officers and auditors."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(name={self._name!r}, key_id={self.key_id.hex()!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("signing keys cannot be pickled")


def generate_signing_key(
    path: Path, name: str, *, encoding: Literal["pem", "raw"] = "pem"
) -> SigningKey:
    """Create a new key file at ``path`` (mode 0600) and return the key.

    ``pem`` writes unencrypted PKCS#8 PEM; ``raw`` writes the 32-byte seed. The parent
    directory is created with mode 0700 if missing.

    Raises:
        AuditKeyError: ``path`` already exists (a key is never overwritten).
    """
    key = Ed25519PrivateKey.generate()
    signing = SigningKey(name, key)
    if encoding == "pem":
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        data = key.private_bytes_raw()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"{path}: key file exists; refusing to overwrite") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return signing


def load_signing_key(path: Path, name: str) -> SigningKey:
    """Load a PEM (PKCS#8) or raw 32-byte Ed25519 key file that only its owner can read.

    Raises:
        AuditKeyError: missing, not a regular file, readable by group or others, or not
            an Ed25519 private key. The message names the file, never its content.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise AuditKeyError(f"{path}: key file is not a regular file")
        if info.st_mode & 0o077:
            raise AuditKeyError(
                f"{path}: key file is open to group or others; chmod 600"
            )
        data = path.read_bytes()
    except OSError:
        raise AuditKeyError(f"{path}: cannot read key file") from None
    private: object
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise AuditKeyError(f"{path}: not an unencrypted PEM private key") from None
    elif len(data) == 32:
        private = Ed25519PrivateKey.from_private_bytes(data)
    else:
        raise AuditKeyError(f"{path}: not a PEM or raw 32-byte Ed25519 key")
    if not isinstance(private, Ed25519PrivateKey):
        raise AuditKeyError(f"{path}: private key is not an Ed25519 key")
    return SigningKey(name, private)


def read_verifier_keys(path: Path) -> list[VerifierKey]:
    """Read trusted verifier keys, one per line; blank lines and ``#`` comments skipped.

    Raises:
        AuditKeyError: the file cannot be read, or a line is not a verifier key (the
            message gives the line number).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise AuditKeyError(f"{path}: cannot read verifier keys") from None
    keys: list[VerifierKey] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            keys.append(VerifierKey.from_text(text))
        except AuditKeyError as exc:
            raise AuditKeyError(f"{path}, line {number}: {exc}") from None
    return keys
