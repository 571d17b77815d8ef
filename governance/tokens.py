"""Bearer tokens for principals: issued once, stored only as a hash.

Owns the token format, its generation, parsing and verification. A token looks like
``wgv_`` + 8 characters of lookup id + 43 characters of secret + 6 characters of
checksum (61 characters in all)::

    wgv_<id: 5 random bytes, base32><secret: 32 random bytes><crc32 of the rest>

- The **id** is random and not secret (lower-case base32, so it never starts with
  ``-`` on a command line). It is stored in clear beside the hash so the store can
  find the row through a unique index, and it names the token in listings and audit
  entries. With 40 bits, a clash is about one in 10**5 at 5,000 tokens; the store's
  unique index refuses it and the caller issues another token.
- The **secret** is 256 bits from :mod:`secrets` (the operating system's CSPRNG),
  in URL-safe base64.
- The **checksum** (CRC32, as GitHub's tokens carry) catches a mistyped or truncated
  token before any lookup, and lets secret scanners recognise a leaked one. It is not
  a security control: anyone can compute it.

Only ``SHA-256("wresgov-token-v1" NUL token)`` is stored. No slow KDF (bcrypt,
scrypt, Argon2) is needed: those exist to slow down guessing of *low-entropy*
passwords after the hashes leak. A token carries 256 random bits (the id is public,
so the secret alone carries them), and finding a preimage of SHA-256 for it is as hard
as guessing the secret, about 2**255 tries on average, whatever the hash speed. A
slow KDF would only make every request slower. The fixed prefix separates these
hashes from every other SHA-256 in the system, so a stored hash can never be
replayed as, or confused with, another kind of digest.

Comparison is constant-time (:func:`hmac.compare_digest`). A token never appears in
a repr, a ``str``, an error message or an equality test: the classes here keep it in
a field excluded from all of them. This module never prints, logs or stores anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Final

from governance.errors import AuthenticationError

TOKEN_PREFIX: Final = "wgv_"  # noqa: S105 - a public marker, not a secret
ID_BYTES: Final = 5
SECRET_BYTES: Final = 32
ID_CHARS: Final = 8  # base32 of 5 bytes, no padding
SECRET_CHARS: Final = 43  # base64 of 32 bytes, padding stripped
CHECKSUM_CHARS: Final = 6  # base64 of 4 bytes, padding stripped
TOKEN_LENGTH: Final = len(TOKEN_PREFIX) + ID_CHARS + SECRET_CHARS + CHECKSUM_CHARS
HASH_DOMAIN: Final = b"wresgov-token-v1\x00"

_BODY_CHARS: Final = TOKEN_LENGTH - len(TOKEN_PREFIX)
_SHAPE: Final = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{{_BODY_CHARS}}}\Z")
_HASH: Final = re.compile(r"[0-9a-f]{64}\Z")
_TOKEN_ID: Final = re.compile(rf"[a-z2-7]{{{ID_CHARS}}}\Z")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _checksum(text: str) -> str:
    return _b64(zlib.crc32(text.encode("ascii")).to_bytes(4, "big"))


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token under the wresgov domain prefix."""
    return hashlib.sha256(HASH_DOMAIN + token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class IssuedToken:
    """A new token: ``token_id`` and ``token_hash`` go to the store; ``token`` is
    shown once to whoever asked for it and then dropped."""

    token_id: str
    token_hash: str
    token: str = field(repr=False)


@dataclass(frozen=True, eq=False)
class PresentedToken:
    """A well-formed token presented by a caller, before it is checked."""

    token_id: str
    _token: str = field(repr=False)

    def matches(self, stored_hash: str) -> bool:
        """Whether this token hashes to ``stored_hash``, compared in constant time."""
        return hmac.compare_digest(hash_token(self._token), stored_hash)


def issue_token() -> IssuedToken:
    """Generate a new random token, its lookup id and its hash."""
    token_id = base64.b32encode(secrets.token_bytes(ID_BYTES)).decode("ascii").lower()
    body = TOKEN_PREFIX + token_id + _b64(secrets.token_bytes(SECRET_BYTES))
    token = body + _checksum(body)
    return IssuedToken(token_id=token_id, token_hash=hash_token(token), token=token)


def parse_token(text: str) -> PresentedToken:
    """Check a presented token's shape and checksum (surrounding space is ignored).

    Raises:
        AuthenticationError: empty, the wrong prefix or length, characters outside
            URL-safe base64, or a checksum that does not match. The message never
            quotes the token.
    """
    token = text.strip()
    if not token:
        raise AuthenticationError(
            "no token: set WRESGOV_TOKEN or pass --token", reason="missing_token"
        )
    if not token.isascii() or not _SHAPE.match(token):
        raise AuthenticationError(
            f"token is malformed: expected {TOKEN_PREFIX!r} followed by"
            f" {_BODY_CHARS} URL-safe base64 characters",
            reason="malformed_token",
        )
    body, checksum = token[:-CHECKSUM_CHARS], token[-CHECKSUM_CHARS:]
    if not hmac.compare_digest(_checksum(body), checksum):
        raise AuthenticationError(
            "token is malformed: its checksum does not match (mistyped or truncated?)",
            reason="malformed_token",
        )
    start = len(TOKEN_PREFIX)
    token_id = token[start : start + ID_CHARS]
    if not _TOKEN_ID.match(token_id):
        raise AuthenticationError(
            "token is malformed: its id part is not lower-case base32",
            reason="malformed_token",
        )
    return PresentedToken(token_id=token_id, _token=token)


def is_token_id(text: str) -> bool:
    """Whether ``text`` has the shape of a token id (for CLI arguments)."""
    return bool(_TOKEN_ID.match(text))


def check_token(presented: PresentedToken, stored_hash: str | None) -> None:
    """Refuse a token whose id is unknown (``None``) or whose hash does not match.

    Raises:
        AuthenticationError: unknown id or wrong secret; both read the same, so the
            message does not tell a guesser which part was wrong.
    """
    if stored_hash is not None and not _HASH.match(stored_hash):
        raise ValueError("a stored token hash must be 64 lower-case hex digits")
    # Hash even when the id is unknown, so both failures take the same time.
    ok = presented.matches(stored_hash if stored_hash is not None else "0" * 64)
    if stored_hash is None or not ok:
        raise AuthenticationError("token not recognised", reason="unknown_token")
