"""Check reports: a :class:`~governance.sdc.check.CheckResult` as text, JSON or JUnit XML.

Each renderer returns text; the command line prints it. Reports name cells by their
codes and give the intruder's intervals for hidden cells (what anyone can compute
from the table), never a published small count's value. This module never prints or
logs.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import numpy as np

from governance.sdc.check import CheckResult, Finding

_KIND_TITLES: dict[str, str] = {
    "small_cell": "no count below the threshold is published",
    "recoverable": "no hidden small count can be worked out",
    "derived_over_hidden": "no derived value is published over a hidden count",
    "inconsistent": "labels agree with the published values",
}


def render_text(result: CheckResult) -> str:
    """A human-readable report."""
    unsafe = len(result.unsafe)
    notes = len(result.findings) - unsafe
    lines = [
        f"wresgov check: {result.source}",
        f"policy: {result.policy_id} (sha256 {result.policy_sha256[:16]})",
        (
            f"cells: {result.cells}, hidden: {result.hidden}, unsafe findings: {unsafe},"
            f" notes: {notes}"
        ),
    ]
    for f in result.findings:
        tag = "UNSAFE" if f.severity == "unsafe" else "note  "
        lines.append(f"{tag} {f.kind} {f.cell}: {f.message}")
    lines.append("verdict: safe" if result.safe else "verdict: UNSAFE")
    return "\n".join(lines) + "\n"


def result_mapping(result: CheckResult) -> dict[str, object]:
    return {
        "source": result.source,
        "policy": {"id": result.policy_id, "sha256": result.policy_sha256},
        "safe": result.safe,
        "cells": result.cells,
        "hidden": result.hidden,
        "findings": [
            {
                "kind": f.kind,
                "severity": f.severity,
                "cell": f.cell,
                "message": f.message,
                "interval": None
                if f.interval is None
                else [_num(v) for v in f.interval],
            }
            for f in result.findings
        ],
    }


def _num(value: float) -> float | int | None:
    if not np.isfinite(value):
        return None
    return int(value) if float(value).is_integer() else value


def render_json(result: CheckResult) -> str:
    return json.dumps(result_mapping(result), indent=2, ensure_ascii=False) + "\n"


def render_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per check, failing with the cells it found."""
    suite = ET.Element(
        "testsuite",
        name=f"wresgov check {result.source}",
        tests=str(len(_KIND_TITLES)),
        failures=str(sum(1 for k in _KIND_TITLES if _of(result, k))),
        errors="0",
    )
    for kind, title in _KIND_TITLES.items():
        case = ET.SubElement(suite, "testcase", classname="wresgov.check", name=title)
        found = _of(result, kind)
        if found:
            failure = ET.SubElement(
                case,
                "failure",
                type=kind,
                message=f"{len(found)} cells: first {found[0].cell}",
            )
            failure.text = "\n".join(f"{f.cell}: {f.message}" for f in found)
    notes = [f for f in result.findings if f.severity == "note"]
    if notes:
        ET.SubElement(suite, "system-out").text = "\n".join(
            f"{f.kind} {f.cell}: {f.message}" for f in notes
        )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _of(result: CheckResult, kind: str) -> list[Finding]:
    return [f for f in result.unsafe if f.kind == kind]
