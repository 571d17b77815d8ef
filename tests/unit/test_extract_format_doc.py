"""docs/esr-extract-format.md documents exactly the columns in governance.extract_format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from governance.extract_format import COLUMNS, KINDS, Kind

DOC = Path(__file__).resolve().parents[2] / "docs" / "esr-extract-format.md"
_CODE = re.compile(r"`([^`]*)`")


def _table(kind: Kind) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"### `{kind}`\n", 1)[1]
    rows = []
    for line in section.strip().splitlines():
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[2:]  # skip the header and the rule


@pytest.mark.parametrize("kind", KINDS)
def test_doc_table_matches_extract_format(kind: Kind) -> None:
    documented = [
        (
            _CODE.findall(header)[0],
            _CODE.findall(name)[0],
            mandatory == "yes",
            handling,
            tuple(_CODE.findall(aliases)),
            description,
        )
        for _, header, name, mandatory, handling, aliases, description in _table(kind)
    ]
    expected = [
        (c.header, c.name, c.mandatory, c.handling, c.aliases, c.description)
        for c in COLUMNS[kind]
    ]
    assert documented == expected
