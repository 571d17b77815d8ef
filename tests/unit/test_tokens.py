"""Tokens: shown once, stored hashed, parsed strictly, never in a repr or an error."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.errors import AccessDeniedError, AuthenticationError
from governance.tokens import (
    HASH_DOMAIN,
    TOKEN_LENGTH,
    TOKEN_PREFIX,
    IssuedToken,
    _checksum,
    check_token,
    hash_token,
    is_token_id,
    issue_token,
    parse_token,
)

ISSUED = issue_token()
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_format() -> None:
    token = ISSUED.token
    assert TOKEN_LENGTH == 61 and len(token) == TOKEN_LENGTH
    assert re.fullmatch(r"wgv_[a-z2-7]{8}[A-Za-z0-9_-]{49}", token)
    assert token[4:12] == ISSUED.token_id and is_token_id(ISSUED.token_id)
    assert not is_token_id("-abcdefg") and not is_token_id("ABCDEFGH")


def test_tokens_and_ids_are_unique() -> None:
    issued = [issue_token() for _ in range(2000)]
    assert len({t.token for t in issued}) == len({t.token_id for t in issued}) == 2000


def test_only_a_domain_separated_hash_is_kept() -> None:
    assert ISSUED.token_hash == hash_token(ISSUED.token)
    expected = hashlib.sha256(HASH_DOMAIN + ISSUED.token.encode()).hexdigest()
    assert ISSUED.token_hash == expected
    assert ISSUED.token_hash != hashlib.sha256(ISSUED.token.encode()).hexdigest()
    assert ISSUED.token not in ISSUED.token_hash


def test_token_never_appears_in_reprs() -> None:
    presented = parse_token(ISSUED.token)
    secret = ISSUED.token[12:]
    for text in (repr(ISSUED), str(ISSUED), repr(presented), str(presented)):
        assert secret not in text
        assert ISSUED.token_id in text
    assert presented != parse_token(ISSUED.token), "no equality on the secret"


def test_round_trip_and_surrounding_space() -> None:
    presented = parse_token(f"  {ISSUED.token}\n")
    assert presented.token_id == ISSUED.token_id
    assert presented.matches(ISSUED.token_hash)
    check_token(presented, ISSUED.token_hash)


def test_wrong_secret_and_unknown_id_read_the_same() -> None:
    other = issue_token()
    presented = parse_token(ISSUED.token)
    assert not presented.matches(other.token_hash)
    for stored in (other.token_hash, None):
        with pytest.raises(AuthenticationError) as raised:
            check_token(presented, stored)
        assert str(raised.value) == "token not recognised"
        assert raised.value.reason == "unknown_token"
        assert isinstance(raised.value, AccessDeniedError)
        assert raised.value.exit_code == 13


def test_stored_hash_must_look_like_one() -> None:
    with pytest.raises(ValueError, match="64 lower-case hex"):
        check_token(parse_token(ISSUED.token), ISSUED.token_hash.upper())


MALFORMED = [
    ("", "missing_token"),
    ("   ", "missing_token"),
    ("wgv", "malformed_token"),
    ("ghp_" + ISSUED.token[4:], "malformed_token"),
    (ISSUED.token[:-1], "malformed_token"),
    (ISSUED.token + "A", "malformed_token"),
    (ISSUED.token[:20] + "+" + ISSUED.token[21:], "malformed_token"),
    (ISSUED.token[:20] + "é" + ISSUED.token[21:], "malformed_token"),
    (ISSUED.token[:20] + " " + ISSUED.token[21:], "malformed_token"),
    ("wgv_" + ISSUED.token[4:12].upper() + ISSUED.token[12:], "malformed_token"),
]


# Named cases: the tokens are random, so ids made from them would differ between
# pytest-xdist workers, which then refuse to run.
MALFORMED_IDS = [
    "empty", "blank", "prefix-only", "other-prefix", "one-short", "one-long",
    "plus-sign", "non-ascii", "inner-space", "upper-case-id",
]  # fmt: skip


@pytest.mark.parametrize(("text", "reason"), MALFORMED, ids=MALFORMED_IDS)
def test_malformed_tokens_are_refused_without_quoting_them(
    text: str, reason: str
) -> None:
    with pytest.raises(AuthenticationError) as raised:
        parse_token(text)
    message = str(raised.value)
    assert raised.value.reason == reason
    assert "\n" not in message
    assert ISSUED.token[12:30] not in message
    if len(text.strip()) > len(TOKEN_PREFIX):
        assert text.strip() not in message


def test_id_part_must_be_base32_even_with_a_valid_checksum() -> None:
    body = "wgv_ABCDEFGH" + ISSUED.token[12:-6]
    forged = body + _checksum(body)
    with pytest.raises(AuthenticationError, match="id part"):
        parse_token(forged)


@given(position=st.integers(0, TOKEN_LENGTH - 1), replacement=st.sampled_from(URLSAFE))
def test_any_single_character_change_is_caught(position: int, replacement: str) -> None:
    """CRC32 catches every one-character change, so a typo never reaches the store."""
    token = ISSUED.token
    changed = token[:position] + replacement + token[position + 1 :]
    if changed == token:
        return
    with pytest.raises(AuthenticationError, match="malformed"):
        parse_token(changed)


def test_issued_token_is_frozen() -> None:
    assert isinstance(ISSUED, IssuedToken)
    with pytest.raises(AttributeError):
        ISSUED.token = "x"  # type: ignore[misc]
    assert TOKEN_PREFIX == "wgv_"
