"""docs/release-artefacts.md cannot drift: fields, kinds, examples and the script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from governance.release import MANIFEST_NAME, SIGNATURE_NAME, write_release
from governance.release_render import neutralise
from governance.release_verify import ProblemKind
from tests.release_support import POLICY, cleared_set, release_info, signing_key

DOC = Path(__file__).resolve().parents[2] / "docs" / "release-artefacts.md"
KEY = signing_key()


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture
def release(tmp_path: Path) -> Path:
    out = tmp_path / "rel"
    write_release(
        out,
        cleared=cleared_set(),
        info=release_info(),
        policy=POLICY,
        signing_key=KEY,
        extra_files={"charts/c.svg": b"<svg/>"},
    )
    block = re.search(
        r"<!-- standalone-release-verifier: begin -->\n```python\n(.*?)```\n"
        r"<!-- standalone-release-verifier: end -->",
        doc_text(),
        re.DOTALL,
    )
    assert block is not None, "the standalone verifier is missing from the page"
    (tmp_path / "verify_release.py").write_text(block.group(1), encoding="utf-8")
    return out


def run_script(release: Path, key_line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "verify_release.py", "rel", key_line],
        cwd=release.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def test_standalone_script_accepts_a_release(release: Path) -> None:
    result = run_script(release, KEY.public_key.to_text())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "OK\n"


def test_standalone_script_catches_changes(release: Path) -> None:
    key_line = KEY.public_key.to_text()
    csv = release / "tables" / "staff_by_grade.csv"
    original = csv.read_bytes()
    csv.write_bytes(original.replace(b"<10", b"007", 1))
    result = run_script(release, key_line)
    assert result.returncode == 1
    assert "tables/staff_by_grade.csv: SHA-256 differs" in result.stdout
    csv.write_bytes(original)
    (release / "extra.txt").write_text("x")
    assert "extra.txt: not listed" in run_script(release, key_line).stdout
    (release / "extra.txt").unlink()
    manifest = release / MANIFEST_NAME
    manifest.write_bytes(manifest.read_bytes().replace(b"req-17", b"req-18"))
    result = run_script(release, key_line)
    assert result.returncode == 1
    assert "not a valid signature" in result.stdout
    other = signing_key().public_key.to_text()
    assert "not signed by the trusted key" in run_script(release, other).stdout


def test_every_manifest_field_is_documented(release: Path) -> None:
    text = doc_text()
    manifest = json.loads((release / MANIFEST_NAME).read_bytes())
    for key in manifest:
        assert f"`{key}`" in text, key
    for key in json.loads((release / SIGNATURE_NAME).read_bytes()):
        assert f'"{key}"' in text, key
    data = json.loads((release / "release.json").read_bytes())
    for key in [*data, *data["tables"][0], *data["tables"][0]["rows"][0]]:
        assert f"`{key}`" in text, key


def test_every_problem_kind_is_documented() -> None:
    text = doc_text()
    for kind in get_args(ProblemKind):
        assert f"`{kind}`" in text, kind


def test_the_neutralisation_examples_are_what_the_code_does() -> None:
    section = doc_text().split("## Formula neutralisation", 1)[1]
    rows = re.findall(r"^\| (`[^|]*`) \| ([^|]*) \|", section, re.MULTILINE)
    assert len(rows) >= 7
    for left, right in rows:
        before = re.findall(r"`([^`]*)`", left)
        after = (
            before if right.strip() == "unchanged" else re.findall(r"`([^`]*)`", right)
        )
        assert len(before) == len(after), left
        for text, expected in zip(before, after, strict=True):
            text, expected = text.replace("\\t", "\t"), expected.replace("\\t", "\t")
            assert neutralise(text) == expected, text
