"""Structure files: the dimensions of a table, their totals and hierarchies.

A structure file (YAML or JSON) names each dimension, its total code and its
hierarchy (parent: [children]); every code of the table appears in it::

    dimensions:
      - name: body
        total: Wales
        hierarchy:
          Wales: [LHB, Trust, SHA]
          LHB: [7A1, 7A2, 7A3, 7A4, 7A5, 7A6, 7A7]

This module reads and writes that form (releases put one beside every CSV, so anyone
can re-check a table), and infers a flat structure from a simple table's total rows
when none is given. YAML scalars are read as text, so codes such as ``01`` or ``5``
stay exactly as written. It never prints or logs; errors name the file and the
dimension or code, never a count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from governance.errors import TableError
from governance.sdc.table import Dimension

#: Codes that name a total row when a structure is inferred (compared case-blind).
TOTAL_NAMES = frozenset(
    {
        "all",
        "total",
        "totals",
        "grand total",
        "overall",
        "wales",
        "all wales",
        "nhs wales",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class DimensionSpec(_Model):
    name: str = Field(min_length=1)
    total: str = Field(min_length=1)
    hierarchy: dict[str, list[str]]


class StructureFile(_Model):
    dimensions: list[DimensionSpec] = Field(min_length=1)


class _TextLoader(yaml.BaseLoader):
    """Reads every scalar as text and refuses a key given twice."""


def _mapping(loader: _TextLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in keys:
            raise TableError(
                f"line {key_node.start_mark.line + 1}: key {key!r} is given twice"
            )
        keys.add(key)
    return dict(loader.construct_mapping(node))


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _text_codes(value: Any) -> Any:
    """JSON may write whole-number codes as numbers; treat them as their text."""
    if isinstance(value, dict):
        return {str(k): _text_codes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_codes(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def parse_structure(text: str, *, source: str) -> list[Dimension]:
    """Parse a structure file's text (JSON when ``source`` ends ``.json``).

    Raises:
        TableError: malformed, an unknown key, or a hierarchy that is not a tree.
    """
    try:
        if source.endswith(".json"):
            data: Any = _text_codes(json.loads(text))
        else:
            data = yaml.load(text, Loader=_TextLoader)  # noqa: S506 - BaseLoader subclass
    except TableError as exc:
        raise TableError(f"{source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise TableError(f"{source}: not valid JSON (line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise TableError(f"{source}: not valid YAML{where}") from None
    try:
        spec = StructureFile.model_validate(data)
    except ValidationError as exc:
        parts = []
        for error in exc.errors(include_input=False, include_url=False):
            key = ".".join(str(p) for p in error["loc"]) or "(top level)"
            problem = (
                "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            )
            parts.append(f"{key}: {problem}")
        raise TableError(f"{source}: {'; '.join(parts)}") from None
    names = [d.name for d in spec.dimensions]
    if len(set(names)) != len(names):
        raise TableError(f"{source}: a dimension name is given twice")
    try:
        return [Dimension(d.name, d.total, d.hierarchy) for d in spec.dimensions]
    except TableError as exc:
        raise TableError(f"{source}: {exc}") from None


def load_structure(path: Path) -> list[Dimension]:
    """Read a structure file.

    Raises:
        TableError: missing, unreadable or invalid (see :func:`parse_structure`).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise TableError(f"{path}: structure file cannot be read") from None
    return parse_structure(text, source=str(path))


class _Children(list[str]):
    """A list of children, written on one line as in the documented example."""


class _StructureDumper(yaml.SafeDumper):
    """Block style, except for lists of children."""


def _children(dumper: yaml.SafeDumper, data: _Children) -> yaml.Node:
    return dumper.represent_sequence(
        "tag:yaml.org,2002:seq", list(data), flow_style=True
    )


_StructureDumper.add_representer(_Children, _children)


def structure_mapping(
    dimensions: Sequence[Dimension],
) -> dict[str, list[dict[str, Any]]]:
    """The structure file's content as plain data."""
    return {
        "dimensions": [
            {
                "name": d.name,
                "total": d.total,
                "hierarchy": {p: list(kids) for p, kids in d.hierarchy.items()},
            }
            for d in dimensions
        ]
    }


def render_structure(dimensions: Sequence[Dimension], *, fmt: str = "yaml") -> str:
    """Render a structure file (``yaml`` or ``json``) that :func:`parse_structure` reads."""
    data = structure_mapping(dimensions)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    for dim in data["dimensions"]:
        dim["hierarchy"] = {p: _Children(kids) for p, kids in dim["hierarchy"].items()}
    return yaml.dump(
        data,
        Dumper=_StructureDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )


def infer_structure(
    columns: Sequence[str],
    cells: Mapping[tuple[str, ...], float | None],
) -> list[Dimension]:
    """Infer flat dimensions (a total and its children) from a simple table.

    ``cells`` maps each row's codes to its published value, or ``None`` when the
    row is hidden. For each column the total is the one code named like a total
    (``All``, ``Total``, ``Wales``...) or, failing that, the one code that equals
    the sum of the other codes wherever all of them are published.

    Raises:
        TableError: a column's total cannot be told (give a structure file).
    """
    dims = []
    for axis, column in enumerate(columns):
        codes = list(dict.fromkeys(key[axis] for key in cells))
        if len(codes) < 2:
            raise TableError(
                f"column {column!r} has fewer than two codes: give --structure"
            )
        total = _infer_total(axis, codes, cells)
        if total is None:
            raise TableError(
                f"cannot tell the total row of column {column!r}: give --structure"
            )
        dims.append(Dimension(column, total, {total: [c for c in codes if c != total]}))
    return dims


def _infer_total(
    axis: int, codes: list[str], cells: Mapping[tuple[str, ...], float | None]
) -> str | None:
    named = [c for c in codes if c.strip().lower() in TOTAL_NAMES]
    if len(named) == 1:
        return named[0]
    slices: dict[tuple[str, ...], dict[str, float | None]] = {}
    for key, value in cells.items():
        rest = key[:axis] + key[axis + 1 :]
        slices.setdefault(rest, {})[key[axis]] = value
    confirmed: set[str] = set()
    refuted: set[str] = set()
    for members in slices.values():
        if len(members) != len(codes) or any(v is None for v in members.values()):
            continue
        values = {c: float(v) for c, v in members.items() if v is not None}
        grand = sum(values.values())
        for code, value in values.items():
            (confirmed if abs(2 * value - grand) < 1e-9 else refuted).add(code)
    found = sorted(confirmed - refuted, key=codes.index)
    return found[0] if len(found) == 1 else None
