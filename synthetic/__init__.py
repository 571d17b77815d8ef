"""Synthetic ESR extracts for every NHS Wales body, for demos, tests and benchmarks.

May import faker, numpy and ``governance`` (reference data, extract format); nothing in
``governance`` may import this package. Every name, identifier and date is fictitious,
drawn from seeded generators: the same arguments give byte-identical files.
"""

from __future__ import annotations

from synthetic.faults import FAULT_TYPES, FAULTS_BY_KIND, Fault, FaultType
from synthetic.generate import (
    FAULTS_FILE,
    FileSummary,
    Progress,
    SynthSummary,
    generate,
    write_staff_extract,
)

__all__ = [
    "FAULTS_BY_KIND",
    "FAULTS_FILE",
    "FAULT_TYPES",
    "Fault",
    "FaultType",
    "FileSummary",
    "Progress",
    "SynthSummary",
    "generate",
    "write_staff_extract",
]
