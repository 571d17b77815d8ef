"""Reference data: NHS Wales bodies, ethnic categories, bands, grades and staff groups.

Owns loading ``governance/data/reference.yaml`` (package data, so it is found in a
source checkout, an editable install and a wheel), validating it once, and the frozen
values every other module uses: :class:`Reference` and the dataclasses it holds, plus
the tolerant parsers ingest needs (``parse_ethnic_origin``, ``parse_staff_group``,
``parse_pay_band``), each a dictionary lookup after normalising case and spacing.

Must never: read any file but the reference file, print, or hold personal data. A
broken reference file raises :class:`~governance.errors.ConfigError` with one line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml
from pydantic import ValidationError

from governance.assumptions import SyntheticAssumptions, build_assumptions
from governance.errors import ConfigError
from governance.reference_schema import (
    MEDICAL_AND_DENTAL,
    BodyType,
    BroadGroup,
    CaseStage,
    CaseType,
    MedicalSubgroup,
    ReferenceFile,
    Status,
    WresGroup,
    check_consistency,
)

__all__ = [
    "MEDICAL_AND_DENTAL",
    "Body",
    "BodyType",
    "BroadGroup",
    "CaseStage",
    "CaseType",
    "CensusCategory",
    "EthnicCategory",
    "MedicalGrade",
    "MedicalSubgroup",
    "Reference",
    "StaffGroup",
    "Status",
    "SyntheticAssumptions",
    "WresGroup",
    "load_reference",
    "read_reference",
]

REFERENCE_FILE_NAME = "reference.yaml"

# The C loader (when PyYAML was built with libyaml) is ten times faster; both are safe.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Body:
    """An NHS Wales body that submits ESR extracts."""

    code: str
    name: str
    short_name: str
    type: BodyType
    code_status: Status
    synthetic_weight: float
    """Share of the synthetic all-Wales headcount (the twelve weights sum to 1)."""


@dataclass(frozen=True)
class EthnicCategory:
    """An NHS ethnic category code, top-level (``A``) or extended (``CC``)."""

    code: str
    label: str
    broad_group: BroadGroup
    wres_group: WresGroup
    parent: str | None
    esr_display: str
    """How an ESR export shows it, e.g. ``A White - British`` (format unconfirmed)."""


@dataclass(frozen=True)
class CensusCategory:
    code: int
    label: str
    broad_group: BroadGroup
    wres_group: WresGroup
    maps_to_nhs_code: str


@dataclass(frozen=True)
class StaffGroup:
    code: str
    name: str
    esr_label: str
    clinical: bool | None
    """WRES clinical flag; None where no flag is known (Supplementary Roles)."""


@dataclass(frozen=True)
class MedicalGrade:
    name: str
    wres_subgroup: MedicalSubgroup


def normalise(text: str) -> str:
    """Fold text to a lookup key: case folded, runs of whitespace made one space."""
    return " ".join(text.split()).casefold()


_BAND_PREFIX = re.compile(r"^(?:agenda for change|afc)?\s*band\s*")
_CODE_PUNCTUATION = ":-–—,;"


# eq=False: compared and hashed by identity, so a Reference can sit in a frozen,
# hashable context object (its mappings would make a value hash fail).
@dataclass(frozen=True, eq=False)
class Reference:
    """All reference data, validated; build it with :func:`load_reference`."""

    bodies: tuple[Body, ...]
    ethnic_categories: tuple[EthnicCategory, ...]
    census_2021: tuple[CensusCategory, ...]
    afc_bands: tuple[str, ...]
    pay_bands: tuple[str, ...]
    medical_grades: tuple[MedicalGrade, ...]
    staff_groups: tuple[StaffGroup, ...]
    synthetic: SyntheticAssumptions
    _bodies: Mapping[str, Body] = field(init=False, repr=False, compare=False)
    _ethnic_codes: Mapping[str, EthnicCategory] = field(
        init=False, repr=False, compare=False
    )
    _ethnic_texts: Mapping[str, EthnicCategory] = field(
        init=False, repr=False, compare=False
    )
    _staff_groups: Mapping[str, StaffGroup] = field(
        init=False, repr=False, compare=False
    )
    _bands: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _grades: Mapping[str, MedicalGrade] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Lookup tables are built once so every parse is one or two dict lookups.
        ethnic_codes = {normalise(c.code): c for c in self.ethnic_categories}
        texts: dict[str, EthnicCategory] = dict(ethnic_codes)
        labels: dict[str, list[EthnicCategory]] = {}
        for cat in self.ethnic_categories:
            texts[normalise(cat.esr_display)] = cat
            texts[normalise(f"{cat.code} {cat.label}")] = cat
            labels.setdefault(normalise(cat.label), []).append(cat)
        for key, cats in labels.items():
            if len(cats) == 1:  # an ambiguous bare label identifies nothing
                texts.setdefault(key, cats[0])
        groups: dict[str, StaffGroup] = {}
        for group in self.staff_groups:
            for spelling in (
                group.code,
                str(int(group.code)),
                group.name,
                group.esr_label,
                f"{group.code} {group.name}",
                f"{group.code} {group.esr_label}",
            ):
                groups.setdefault(normalise(spelling), group)
        bands: dict[str, str] = {}
        for band in self.pay_bands:
            bands[normalise(band)] = band
            if band.isdigit():
                bands[f"0{band}"] = band
        bands["very senior manager"] = "VSM"
        grades = {normalise(g.name): g for g in self.medical_grades}
        setattr_ = object.__setattr__
        setattr_(self, "_bodies", MappingProxyType({b.code: b for b in self.bodies}))
        setattr_(self, "_ethnic_codes", MappingProxyType(ethnic_codes))
        setattr_(self, "_ethnic_texts", MappingProxyType(texts))
        setattr_(self, "_staff_groups", MappingProxyType(groups))
        setattr_(self, "_bands", MappingProxyType(bands))
        setattr_(self, "_grades", MappingProxyType(grades))

    def body(self, code: str) -> Body:
        """Return the body with this code (case and surrounding space ignored).

        Raises:
            KeyError: no body has this code.
        """
        try:
            return self._bodies[code.strip().upper()]
        except KeyError:
            raise KeyError(code) from None

    def ethnic(self, code: str) -> EthnicCategory:
        """Return the ethnic category with this code (``A``, ``cc``, ``99``).

        Raises:
            KeyError: no category has this code.
        """
        try:
            return self._ethnic_codes[normalise(code)]
        except KeyError:
            raise KeyError(code) from None

    def staff_group(self, code: str) -> StaffGroup:
        """Return the staff group with this two-digit code.

        Raises:
            KeyError: no staff group has this code.
        """
        group = self._staff_groups.get(normalise(code))
        if group is None or group.code != code.strip():
            raise KeyError(code)
        return group

    def medical_grade(self, name: str) -> MedicalGrade:
        """Return the medical grade with this name (case and spacing ignored).

        Raises:
            KeyError: no medical grade has this name.
        """
        try:
            return self._grades[normalise(name)]
        except KeyError:
            raise KeyError(name) from None

    def parse_ethnic_origin(self, text: str) -> EthnicCategory | None:
        """Read an ethnic origin as ESR or a person wrote it; None if unknown.

        Accepts a code (``A``, ``cc``, ``99``), the ESR display (``A White - British``),
        code plus label in any case and spacing, or an unambiguous bare label. When text
        starts with a known code, the code decides and the label's spelling is not
        checked (``Z Not stated`` and ``Z Not Stated`` are both Z). Text starting with
        an unknown code gives None.
        """
        key = normalise(text)
        found = self._ethnic_texts.get(key)
        if found is not None or not key:
            return found
        head = key.split(" ", 1)[0].rstrip(_CODE_PUNCTUATION)
        return self._ethnic_codes.get(head)

    def parse_staff_group(self, text: str) -> StaffGroup | None:
        """Read a staff group given as code (``01``, ``1``), name or ESR label."""
        return self._staff_groups.get(normalise(text))

    def parse_pay_band(self, text: str) -> str | None:
        """Read a pay band or medical grade to its canonical spelling; None if unknown.

        ``Band 5``, ``AfC Band 5``, ``5`` and ``05`` give ``5``; ``band 8A`` gives
        ``8a``; ``vsm`` gives ``VSM``; ``consultant`` gives ``Consultant``.
        """
        key = normalise(text)
        found = self._bands.get(key)
        if found is not None:
            return found
        grade = self._grades.get(key)
        if grade is not None:
            return grade.name
        stripped = _BAND_PREFIX.sub("", key, count=1)
        if stripped == key:
            return None
        return self._bands.get(stripped.replace(" ", ""))

    def is_medical_grade(self, band: str) -> bool:
        """True if the band is a medical and dental grade rather than an AfC band."""
        return normalise(band) in self._grades


def _build(ref: ReferenceFile) -> Reference:
    total_weight = sum(b.synthetic_weight for b in ref.bodies.items)
    bodies = tuple(
        Body(
            code=b.code,
            name=b.name,
            short_name=b.short_name,
            type=b.type,
            code_status=b.code_status,
            synthetic_weight=b.synthetic_weight / total_weight,
        )
        for b in ref.bodies.items
    )
    ethnic = ref.ethnic_categories
    top = {i.code: i for i in ethnic.items}
    categories = [
        EthnicCategory(
            i.code, i.label, i.broad_group, i.wres_group, None, i.esr_display
        )
        for i in ethnic.items
    ]
    categories += [
        EthnicCategory(
            code=e.code,
            label=e.label,
            broad_group=top[e.parent].broad_group,
            wres_group=top[e.parent].wres_group,
            parent=e.parent,
            esr_display=e.esr_display,
        )
        for e in ethnic.extended.items
    ]
    afc = tuple(b.band for b in ref.afc_bands.items)
    return Reference(
        bodies=bodies,
        ethnic_categories=tuple(categories),
        census_2021=tuple(
            CensusCategory(
                c.code, c.label, c.broad_group, c.wres_group, c.maps_to_nhs_code
            )
            for c in ref.census_2021.items
        ),
        afc_bands=afc,
        pay_bands=afc + tuple(b.code for b in ref.afc_bands.non_afc),
        medical_grades=tuple(
            MedicalGrade(g.name, g.wres_subgroup) for g in ref.medical_grades.items
        ),
        staff_groups=tuple(
            StaffGroup(g.code, g.name, g.esr_label, g.clinical)
            for g in ref.staff_groups.items
        ),
        synthetic=build_assumptions(ref),
    )


def parse_reference(text: str, source: str = REFERENCE_FILE_NAME) -> Reference:
    """Validate reference data given as YAML text and build a :class:`Reference`.

    Raises:
        ConfigError: the text is not YAML, does not match the schema, or is
            inconsistent (duplicate codes, unknown parents, wrong body counts...).
    """
    try:
        raw = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"reference data {source} is not valid YAML{where}") from None
    try:
        ref = ReferenceFile.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"reference data {source} is invalid: {loc}: {first['msg']}{more}"
        ) from None
    problems = check_consistency(ref)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"reference data {source} is invalid: {problems[0]}{more}")
    return _build(ref)


def read_reference(path: Path) -> Reference:
    """Load and validate a reference file at ``path`` (not cached).

    Raises:
        ConfigError: the file cannot be read or is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"reference data {path.name} cannot be read ({type(exc).__name__})"
        ) from None
    return parse_reference(text, path.name)


@functools.cache
def load_reference() -> Reference:
    """Return the shipped reference data, validated once and cached.

    Raises:
        ConfigError: the shipped reference file is missing or invalid.
    """
    resource = resources.files("governance").joinpath("data", REFERENCE_FILE_NAME)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"reference data {REFERENCE_FILE_NAME} cannot be read ({type(exc).__name__})"
        ) from None
    return parse_reference(text)
