"""Keys and keyed pseudonyms: the only code that holds the master key.

Part of the personal-data zone (with ``ingest`` and ``storage``). The master key is 32
random bytes in a file of the key directory (created 0700, files 0600, never
overwritten); it is never written to the store, a log or an output, and its wrapper
never shows it in a ``repr``. Per-purpose keys are derived from it with HKDF-SHA256,
so one master key yields unrelated keys for linkage, audit and future purposes.

A pseudonym is HMAC-SHA256 under the linkage key of ``namespace || 0x00 || value``,
truncated to 128 bits and written as 32 hex characters. The namespace keeps an
employee number and an applicant id with the same digits apart; the value is
normalised first (whitespace removed, upper case) so ``qq 12 34 56 c`` and
``QQ123456C`` are one person. The same person gets the same pseudonym in every
extract and every year; another master key gives unrelated pseudonyms.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from governance.errors import ConfigError

MASTER_KEY_FILE: Final = "master.key"
KEY_BYTES: Final = 32
PSEUDONYM_HEX_CHARS: Final = 32  # 128 bits

Namespace = Literal["employee", "assignment", "ni", "applicant"]
Purpose = Literal["linkage", "audit"]

_BLOCK = 64  # SHA-256 block size, for HMAC's pads


class MasterKey:
    """The master key's bytes, kept out of reprs, logs and tracebacks."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise ConfigError(f"the master key must be {KEY_BYTES} bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    def derive(self, purpose: Purpose, version: int = 1) -> bytes:
        """Derive the key for one purpose with HKDF-SHA256."""
        info = f"wresgov/{purpose}/v{version}".encode()
        return HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info
        ).derive(self._secret)


@dataclass(frozen=True)
class KeyDirStatus:
    path: Path
    created_dir: bool
    created_master_key: bool


def init_key_dir(path: Path) -> KeyDirStatus:
    """Create the key directory (0700) and a random master key (0600) if absent.

    An existing key is never overwritten: losing it would break linkage with every
    earlier extract.

    Raises:
        ConfigError: the path exists but is not a directory, or is not private.
    """
    created_dir = False
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        created_dir = True
    if not path.is_dir():
        raise ConfigError(f"key directory {path} is not a directory")
    os.chmod(path, 0o700)
    key_file = path / MASTER_KEY_FILE
    created_key = False
    if not key_file.exists():
        # O_EXCL: if another process created it meanwhile, keep theirs.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
            created_key = True
    return KeyDirStatus(path, created_dir, created_key)


def load_master_key(path: Path) -> MasterKey:
    """Read the master key from a key directory, refusing unsafe permissions.

    Raises:
        ConfigError: the key is missing, has the wrong length or is readable by
            other users.
    """
    key_file = path / MASTER_KEY_FILE
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(
            f"no master key in {path}; run `wresgov init` first"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{key_file} is readable by other users; chmod 600 it (and 700 its directory)"
        )
    return MasterKey(key_file.read_bytes())


class Pseudonymiser:
    """HMAC-SHA256 pseudonyms under the linkage key derived from a master key."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, master: MasterKey) -> None:
        key = master.derive("linkage")
        # HMAC (RFC 2104) with the padded-key states computed once: copying two
        # SHA-256 states per pseudonym is about twice as fast as hmac.digest, and
        # ingest makes three pseudonyms per row. test_pseudonymise checks equality
        # with the standard library's hmac.
        padded = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def __repr__(self) -> str:
        return "Pseudonymiser(<keyed>)"

    def pseudonym(self, namespace: Namespace, value: str) -> str:
        """Return the pseudonym of ``value`` (normalised) in ``namespace``."""
        return self.raw(namespace.encode() + b"\0" + normalise_identifier(value))

    def raw(self, message: bytes) -> str:
        """HMAC of an already normalised, namespaced message."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def for_namespace(self, namespace: Namespace) -> Callable[[str], str]:
        """A fast pseudonym function for one namespace (ingest's hot path).

        Its argument must already be normalised (``normalise_identifier``); the
        namespace prefix is hashed once, here, instead of once per value.
        """
        inner = self._inner.copy()
        inner.update(namespace.encode() + b"\0")
        inner_copy, outer_copy = inner.copy, self._outer.copy

        def pseudonym(normalised: str) -> str:
            state = inner_copy()
            state.update(normalised.encode())
            outer = outer_copy()
            outer.update(state.digest())
            return outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

        return pseudonym

    def for_column(self, namespace: Namespace) -> Callable[[Sequence[str]], list[str]]:
        """A function giving the pseudonyms of a column of values (ingest's hot path).

        As :meth:`for_namespace`, a column at a time: the values must already be
        normalised; the column is encoded in one call (when no value holds a line
        break) and the loop over it stays in one function.
        """
        inner = self._inner.copy()
        inner.update(namespace.encode() + b"\0")
        inner_copy, outer_copy = inner.copy, self._outer.copy

        def pseudonyms(values: Sequence[str]) -> list[str]:
            encoded = "\n".join(values).encode().split(b"\n")
            if len(encoded) != len(values):  # a line break in a value, or no values
                encoded = [value.encode() for value in values]
            out: list[str] = []
            append = out.append
            for message in encoded:
                state = inner_copy()
                state.update(message)
                outer = outer_copy()
                outer.update(state.digest())
                append(outer.hexdigest()[:PSEUDONYM_HEX_CHARS])
            return out

        return pseudonyms


def normalise_identifier(value: str) -> bytes:
    """Upper-case and remove all whitespace, so formatting variants link."""
    return "".join(value.split()).upper().encode()
