"""Table specifications: which count table an indicator needs, for the store to compute.

A :class:`TableSpec` names one count table: the extract kind it is counted from
(``source``), what is counted (``measure``), the dimensions it is broken down by and the
codes each filtered dimension is restricted to. The store computes a spec with one
``GROUP BY`` (``governance/storage``); the indicator catalogue
(:mod:`governance.indicators`) lists the specs each indicator needs. This module owns
the vocabulary the two agree on: measures, dimension names and each dimension's codes.

What a computed spec holds (the contract with the aggregation):

- **Population**: the active records of ``source`` for the period, restricted by
  ``filters`` (a record is counted only when its value of every filtered dimension is
  one of the allowed codes). The release scope restricts ``body`` further.
- **Cells**: one count per combination of the leaf codes of ``dimensions``, in that
  order; an absent combination is 0. Totals are not part of a spec: the disclosure
  engine computes them from the leaves.
- **Additive**: every counted unit lies in exactly one cell, so totals are sums.
  ``headcount`` counts each person once per body, at one assignment (the primary
  assignment when a person holds several). For an unfiltered dimension every record
  of the population must have one of the dimension's codes: the aggregation must fail
  rather than drop a record silently.

Pure: it never touches the store, files or the clock (the reference data comes from
:func:`governance.reference.load_reference`, which is cached package data).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from governance.reference import MEDICAL_AND_DENTAL, Reference, load_reference
from governance.reference_schema import BroadGroup, MedicalSubgroup, WresGroup

__all__ = [
    "BROAD_GROUPS",
    "CLINICAL_CODES",
    "DIMENSIONS",
    "DIMENSION_TOTALS",
    "ETHNIC_MINORITY_GROUPS",
    "MEASURES",
    "MEASURE_SOURCE",
    "MEDICAL_AND_DENTAL",
    "MEDICAL_SUBGROUPS",
    "SOURCES",
    "SOURCE_DIMENSIONS",
    "WRES_GROUPS",
    "DimensionName",
    "Measure",
    "Source",
    "TableSpec",
    "dimension_codes",
    "dimension_hierarchy",
    "pay_band_codes",
]

Source = Literal["staff", "recruitment", "er-cases", "training", "board"]
Measure = Literal[
    "headcount",
    "applicants_shortlisted",
    "applicants_appointed",
    "people_entering_disciplinary",
    "people_entering_capability",
    "people_accessing_training",
    "board_voting",
    "board_executive",
]
DimensionName = Literal[
    "body",
    "wres_group",
    "ethnic_broad",
    "pay_band",
    "clinical",
    "staff_group",
    "medical_subgroup",
]

SOURCES: tuple[Source, ...] = get_args(Source)
MEASURES: tuple[Measure, ...] = get_args(Measure)
DIMENSIONS: tuple[DimensionName, ...] = get_args(DimensionName)

#: The extract kind each measure is counted from.
MEASURE_SOURCE: Mapping[Measure, Source] = MappingProxyType(
    {
        # distinct people in the 31 March staff snapshot
        "headcount": "staff",
        # distinct applicants shortlisted / appointed in the reporting year
        "applicants_shortlisted": "recruitment",
        "applicants_appointed": "recruitment",
        # distinct people in the snapshot with a formal case of that type started in
        # the reporting year (ethnicity and post from their staff record)
        "people_entering_disciplinary": "er-cases",
        "people_entering_capability": "er-cases",
        # distinct people in the snapshot with non-mandatory training or CPD
        # completed in the reporting year
        "people_accessing_training": "training",
        # board members (one board row each) who are voting / executive members
        "board_voting": "board",
        "board_executive": "board",
    }
)

_STAFF_DIMENSIONS: frozenset[DimensionName] = frozenset(DIMENSIONS)
#: The dimensions each source can be broken down by. Employee-relations cases and
#: training take every staff dimension from the person's staff record (joined on the
#: pseudonym, same body and period); a recruitment record's pay band is the post's.
SOURCE_DIMENSIONS: Mapping[Source, frozenset[DimensionName]] = MappingProxyType(
    {
        "staff": _STAFF_DIMENSIONS,
        "er-cases": _STAFF_DIMENSIONS,
        "training": _STAFF_DIMENSIONS,
        "recruitment": frozenset({"body", "wres_group", "ethnic_broad", "pay_band"}),
        "board": frozenset({"body", "wres_group", "ethnic_broad"}),
    }
)

WRES_GROUPS: tuple[WresGroup, ...] = get_args(WresGroup)
BROAD_GROUPS: tuple[BroadGroup, ...] = get_args(BroadGroup)
#: Broad groups that make up the WRES group "Ethnic minority" (the rest map to
#: themselves: White to White, Not stated to Not stated).
ETHNIC_MINORITY_GROUPS: tuple[BroadGroup, ...] = ("Mixed", "Asian", "Black", "Other")
MEDICAL_SUBGROUPS: tuple[MedicalSubgroup, ...] = get_args(MedicalSubgroup)
CLINICAL_CODES: tuple[str, ...] = ("clinical", "non-clinical")

#: The total code of each dimension in every table built from a spec.
DIMENSION_TOTALS: Mapping[DimensionName, str] = MappingProxyType(
    {
        "body": "Wales",
        "wres_group": "All",
        "ethnic_broad": "All",
        "pay_band": "All",
        "clinical": "All",
        "staff_group": "All",
        "medical_subgroup": "All",
    }
)


def pay_band_codes(reference: Reference) -> tuple[str, ...]:
    """AfC bands 1 to 9 (8 split into 8a-8d) and VSM; medical grades are not bands."""
    return reference.pay_bands


def dimension_codes(name: DimensionName, reference: Reference) -> tuple[str, ...]:
    """Return the leaf codes of a dimension, in reporting order.

    ``body``: the body codes of the reference data; ``staff_group``: the two-digit
    staff group codes; the others are fixed vocabularies.
    """
    if name == "body":
        return tuple(b.code for b in reference.bodies)
    if name == "staff_group":
        return tuple(g.code for g in reference.staff_groups)
    if name == "pay_band":
        return pay_band_codes(reference)
    fixed: dict[str, tuple[str, ...]] = {
        "wres_group": WRES_GROUPS,
        "ethnic_broad": BROAD_GROUPS,
        "clinical": CLINICAL_CODES,
        "medical_subgroup": MEDICAL_SUBGROUPS,
    }
    return fixed[name]


def dimension_hierarchy(
    name: DimensionName, reference: Reference, codes: tuple[str, ...] | None = None
) -> tuple[str, dict[str, list[str]]]:
    """Return ``(total, parent -> children)`` for building the engine's dimension.

    ``codes`` are the leaf codes in use (a spec's filter); every dimension's default.
    ``body`` nests bodies in their type (``local_health_board``, ``nhs_trust``,
    ``special_health_authority``) under ``Wales``; ``ethnic_broad`` nests the four
    minority groups under ``Ethnic minority``, so the WRES groups White, Ethnic
    minority and Not stated are cells of every broad-group table and the two
    breakdowns can never disagree. Other dimensions are one level under ``All``.
    """
    leaves = codes if codes is not None else dimension_codes(name, reference)
    total = DIMENSION_TOTALS[name]
    if name == "body":
        by_type: dict[str, list[str]] = {}
        for body in reference.bodies:
            if body.code in leaves:
                by_type.setdefault(body.type, []).append(body.code)
        return total, {total: list(by_type), **by_type}
    if name == "ethnic_broad":
        minority: list[str] = [g for g in ETHNIC_MINORITY_GROUPS if g in leaves]
        top: list[str] = [g for g in leaves if g not in ETHNIC_MINORITY_GROUPS]
        if not minority:
            return total, {total: top}
        at = BROAD_GROUPS.index("Mixed")
        top.insert(min(at, len(top)), "Ethnic minority")
        return total, {total: top, "Ethnic minority": minority}
    return total, {total: list(leaves)}


class TableSpec(BaseModel):
    """One count table an indicator needs: computed by the store, cleared by the engine.

    ``dimensions`` are in the order the cells' codes are given; ``filters`` maps a
    dimension (in ``dimensions`` or not) to the codes the population is restricted to.
    A spec never holds both ``wres_group`` and ``ethnic_broad``: the WRES groups are the
    roll-up of the broad groups (see :func:`dimension_hierarchy`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    source: Source
    measure: Measure
    dimensions: tuple[DimensionName, ...] = Field(min_length=1)
    filters: Mapping[DimensionName, tuple[str, ...]] = Field(
        default_factory=lambda: MappingProxyType({})
    )

    @field_validator("filters", mode="after")
    @classmethod
    def _freeze_filters(
        cls, value: Mapping[DimensionName, tuple[str, ...]]
    ) -> Mapping[DimensionName, tuple[str, ...]]:
        # A read-only view, in dimension order, so a spec cannot change after checks.
        ordered = {d: value[d] for d in DIMENSIONS if d in value}
        return MappingProxyType(ordered)

    @field_serializer("filters")
    def _dump_filters(
        self, value: Mapping[DimensionName, tuple[str, ...]]
    ) -> dict[str, tuple[str, ...]]:
        return {str(k): v for k, v in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> TableSpec:
        where = f"table {self.name!r}"
        if MEASURE_SOURCE[self.measure] != self.source:
            raise ValueError(
                f"{where}: measure {self.measure!r} is counted from"
                f" {MEASURE_SOURCE[self.measure]!r}, not {self.source!r}"
            )
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError(f"{where}: a dimension is named twice")
        if {"wres_group", "ethnic_broad"} <= set(self.dimensions):
            raise ValueError(
                f"{where}: use ethnic_broad or wres_group, not both (WRES groups are"
                " the roll-up of broad groups)"
            )
        allowed = SOURCE_DIMENSIONS[self.source]
        for dim in (*self.dimensions, *self.filters):
            if dim not in allowed:
                raise ValueError(f"{where}: source {self.source!r} has no {dim!r}")
        reference = load_reference()
        for dim, codes in self.filters.items():
            if not codes:
                raise ValueError(f"{where}: the filter on {dim!r} allows no code")
            if len(set(codes)) != len(codes):
                raise ValueError(f"{where}: the filter on {dim!r} repeats a code")
            known = dimension_codes(dim, reference)
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise ValueError(
                    f"{where}: the filter on {dim!r} has unknown code {unknown[0]!r}"
                )
        return self

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                self.source,
                self.measure,
                self.dimensions,
                tuple(self.filters.items()),
            )
        )

    def codes(
        self, dimension: DimensionName, reference: Reference | None = None
    ) -> tuple[str, ...]:
        """The leaf codes of one of the spec's dimensions: its filter, or all codes."""
        if dimension in self.filters:
            return self.filters[dimension]
        return dimension_codes(dimension, reference or load_reference())
