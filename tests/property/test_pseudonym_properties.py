"""Pseudonyms are stable for one key, differ across keys, and never contain the input."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from governance.pseudonymise import MasterKey, Pseudonymiser

keys = st.binary(min_size=32, max_size=32)
identifiers = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Nd")), min_size=4, max_size=20
)


@given(keys, identifiers)
def test_stable_for_one_key(secret: bytes, identifier: str) -> None:
    first = Pseudonymiser(MasterKey(secret)).pseudonym("employee", identifier)
    again = Pseudonymiser(MasterKey(secret)).pseudonym("employee", identifier)
    assert first == again
    assert len(first) == 32
    assert identifier.upper() not in first.upper() or len(identifier) < 5


@given(keys, keys, identifiers)
def test_another_master_key_gives_unrelated_pseudonyms(
    secret: bytes, other: bytes, identifier: str
) -> None:
    assume(secret != other)
    assert Pseudonymiser(MasterKey(secret)).pseudonym(
        "employee", identifier
    ) != Pseudonymiser(MasterKey(other)).pseudonym("employee", identifier)


@given(keys, identifiers, identifiers)
def test_distinct_people_get_distinct_pseudonyms(
    secret: bytes, one: str, two: str
) -> None:
    assume(one.upper() != two.upper())
    pseudo = Pseudonymiser(MasterKey(secret))
    assert pseudo.pseudonym("employee", one) != pseudo.pseudonym("employee", two)
