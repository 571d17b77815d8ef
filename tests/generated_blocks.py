"""Generated blocks inside hand-written docs: find, compare and rewrite them.

A block is the text between ``<!-- BEGIN GENERATED: name ... -->`` and
``<!-- END GENERATED: name -->``; everything else on the page is prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)}\b[^>]*-->\n)(.*?)"
        rf"(<!-- END GENERATED: {re.escape(name)} -->)",
        re.DOTALL,
    )


def fill(text: str, blocks: Mapping[str, str]) -> str:
    """Return ``text`` with each named block's content replaced."""
    for name, content in blocks.items():
        pattern = _pattern(name)
        if len(pattern.findall(text)) != 1:
            raise AssertionError(f"block {name!r} must appear exactly once")
        match = pattern.search(text)
        assert match is not None
        text = text[: match.start(2)] + content + text[match.end(2) :]
    return text


def is_current(doc: Path, blocks: Mapping[str, str]) -> bool:
    """Whether every named block of ``doc`` holds exactly ``blocks[name]``."""
    current = doc.read_text(encoding="utf-8")
    return fill(current, blocks) == current


def rewrite(doc: Path, blocks: Mapping[str, str]) -> bool:
    """Bring the named blocks of ``doc`` up to date; whether anything changed."""
    current = doc.read_text(encoding="utf-8")
    fresh = fill(current, blocks)
    if fresh != current:
        doc.write_text(fresh, encoding="utf-8")
    return fresh != current
