"""Properties of release artefacts: neutralisation, and any byte change is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.release import write_release
from governance.release_render import FORMULA_TRIGGERS, is_number_text, neutralise
from governance.release_verify import verify_release
from tests.release_support import POLICY, cleared_set, release_info, signing_key

KEY = signing_key()


@given(st.text())
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    out = neutralise(text)
    assert out in (text, "'" + text)
    assert not out.startswith(FORMULA_TRIGGERS) or is_number_text(out)
    if not text.startswith(FORMULA_TRIGGERS):
        assert out == text  # nothing else is touched


@given(
    st.from_regex(r"[+-]?[0-9]{1,12}(\.[0-9]{1,6})?", fullmatch=True),
)
def test_plain_numbers_are_never_changed(text: str) -> None:
    assert is_number_text(text)
    assert neutralise(text) == text


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release-property") / "rel"
    write_release(
        out,
        cleared=cleared_set(),
        info=release_info(),
        policy=POLICY,
        signing_key=KEY,
        extra_files={"charts/c.svg": b"<svg/>"},
    )
    return out


@settings(deadline=None)
@given(data=st.data())
def test_any_changed_byte_of_any_file_fails_verification(
    release: Path, data: st.DataObject
) -> None:
    names = sorted(p for p in release.rglob("*") if p.is_file())
    path = data.draw(st.sampled_from(names))
    original = path.read_bytes()
    position = data.draw(st.integers(0, len(original) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(original)
    changed[position] ^= flip
    path.write_bytes(bytes(changed))
    try:
        assert not verify_release(release, [KEY.public_key]).ok
    finally:
        path.write_bytes(original)
    assert verify_release(release, [KEY.public_key]).ok
