from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from governance.errors import ConfigError
from governance.pseudonymise import (
    MASTER_KEY_FILE,
    MasterKey,
    Namespace,
    Pseudonymiser,
    init_key_dir,
    load_master_key,
    normalise_identifier,
)


def test_key_dir_is_private_and_never_overwritten(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = init_key_dir(key_dir)
    assert first.created_dir and first.created_master_key
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    key_file = key_dir / MASTER_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    original = key_file.read_bytes()
    assert len(original) == 32

    second = init_key_dir(key_dir)
    assert not second.created_master_key
    assert key_file.read_bytes() == original


def test_load_refuses_missing_or_shared_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `wresgov init`"):
        load_master_key(tmp_path)
    init_key_dir(tmp_path / "keys")
    (tmp_path / "keys" / MASTER_KEY_FILE).chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        load_master_key(tmp_path / "keys")


def test_master_key_never_shows_its_bytes() -> None:
    secret = bytes(range(32))
    key = MasterKey(secret)
    assert secret.hex() not in repr(key)
    assert "hidden" in repr(key)
    assert secret.hex() not in repr(Pseudonymiser(key))
    with pytest.raises(ConfigError):
        MasterKey(b"short")


def test_pseudonym_is_hmac_sha256_under_the_derived_linkage_key() -> None:
    master = MasterKey(bytes(range(32)))
    linkage = master.derive("linkage")
    expected = hmac.new(linkage, b"employee\x0012345678", hashlib.sha256).hexdigest()
    assert Pseudonymiser(master).pseudonym("employee", "12345678") == expected[:32]


def test_purposes_get_different_keys() -> None:
    master = MasterKey(bytes(range(32)))
    assert master.derive("linkage") != master.derive("audit")
    assert master.derive("linkage") != master.derive("linkage", version=2)


def test_namespaces_separate_identical_digits() -> None:
    pseudo = Pseudonymiser(MasterKey(bytes(32)))
    assert pseudo.pseudonym("employee", "1234") != pseudo.pseudonym("applicant", "1234")


def test_normalisation_links_formatting_variants() -> None:
    pseudo = Pseudonymiser(MasterKey(bytes(32)))
    assert pseudo.pseudonym("ni", "qq 12 34 56 c") == pseudo.pseudonym(
        "ni", "QQ123456C"
    )
    assert normalise_identifier(" ab\t1 ") == b"AB1"


PINNED = [
    ("employee", "12345678", "4adc3f9aed44525b874efe4570c33857"),
    ("assignment", "12345678-2", "f8131b3f6286e7645a3835f8decff70a"),
    ("ni", "QQ123456C", "9fa19fbe638cf535e8f8f4e960a08b16"),
    ("applicant", "APP000001", "75d3f5e19e16c7d01083685b7a2e0048"),
]


@pytest.mark.parametrize(("namespace", "identifier", "expected"), PINNED)
def test_pseudonyms_never_change(
    namespace: Namespace, identifier: str, expected: str
) -> None:
    """Stores hold these: a faster implementation must give the same values."""
    pseudo = Pseudonymiser(MasterKey(bytes(range(32))))
    assert pseudo.pseudonym(namespace, identifier) == expected
    assert pseudo.for_namespace(namespace)(identifier) == expected


def test_a_column_gets_each_value_s_pseudonym() -> None:
    pseudo = Pseudonymiser(MasterKey(bytes(range(32))))
    column = pseudo.for_column("assignment")
    values = ["12345678-2", "QQ123456C", "12345678-2"]
    assert column(values) == [pseudo.pseudonym("assignment", v) for v in values]
    # A value holding a line break is hashed as it is, not split in two.
    assert column(["A\nB", "C"]) == [pseudo.raw(b"assignment\0A\nB"), column(["C"])[0]]
    assert column([]) == []
