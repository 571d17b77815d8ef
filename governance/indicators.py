"""The WRES indicator catalogue: what the release pack publishes and how it is computed.

Owns loading ``governance/data/indicators.yaml`` (package data), validating it once
into a frozen :class:`Catalogue`, and the names the pipeline shares about it:

- each indicator's count tables, as :class:`~governance.tablespec.TableSpec` (the store
  computes them);
- the derived values the disclosure engine must add (:func:`derived_requests`):
  percentage columns, the rates and the relative likelihoods, each named so the
  report (:mod:`governance.report`) finds them.

The reference computation of every indicator from counts lives in
:mod:`governance.indicator_values`; the statistics in :mod:`governance.likelihood`.

Must never: touch the store, print or log, or hold a count. A broken catalogue raises
:class:`~governance.errors.ConfigError` with one line naming the key, never a value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from governance.errors import ConfigError
from governance.reference_schema import Status
from governance.tablespec import DimensionName, Measure, Source, TableSpec

__all__ = [
    "CATALOGUE_FILE_NAME",
    "BoardComparison",
    "Catalogue",
    "CellRef",
    "Claim",
    "Completeness",
    "DerivedRequest",
    "Indicator",
    "LikelihoodRequest",
    "Membership",
    "PercentColumn",
    "PercentRequest",
    "RateRequest",
    "RelativeLikelihoodMethod",
    "Representation",
    "derived_requests",
    "ethnic_dimension",
    "likelihood_name",
    "load_catalogue",
    "parse_catalogue",
    "rate_name",
]

CATALOGUE_FILE_NAME = "indicators.yaml"
ETHNIC_DIMENSIONS: tuple[DimensionName, ...] = ("ethnic_broad", "wres_group")

Basis = Literal["nhs-england-wres", "wales-working-set"]
WalesDomain = Literal[
    "Leadership and progression",
    "CPD and training",
    "Discipline and capability",
    "Bullying, harassment and discrimination",
]
LikelihoodGroup = Literal["White", "Ethnic minority"]

#: Which measure an indicator's events may be counted over which population.
EVENT_POPULATIONS: dict[Measure, Measure] = {
    "applicants_appointed": "applicants_shortlisted",
    "people_entering_disciplinary": "headcount",
    "people_entering_capability": "headcount",
    "people_accessing_training": "headcount",
}
BOARD_MEASURES: frozenset[Measure] = frozenset({"board_voting", "board_executive"})

Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Claim(_Model):
    """One part of a definition, with how sure we are of it and where it is from."""

    claim: Text
    status: Status
    source: Text


class Representation(_Model):
    """Headcount in each ethnic group of each category, as a share of the category."""

    kind: Literal["representation"]
    table: Text
    categories: tuple[DimensionName, ...] = Field(min_length=1)
    comparator: Text | None = None
    """The whole-workforce table whose shares each category is compared with."""


class RelativeLikelihoodMethod(_Model):
    """``rate(group_a) / rate(group_b)`` with rate = events / population."""

    kind: Literal["relative_likelihood"]
    events: Text
    population: Text
    group_a: LikelihoodGroup
    group_b: LikelihoodGroup
    subject_a: Text
    subject_b: Text
    outcome: Text
    """Completes "... were N times as likely as ... to <outcome>"."""


class Membership(_Model):
    table: Text
    label: Text


class BoardComparison(_Model):
    """Share of each membership in each ethnic group minus the workforce's share."""

    kind: Literal["board_comparison"]
    workforce: Text
    memberships: tuple[Membership, ...] = Field(min_length=1)


class Completeness(_Model):
    """Share of the headcount whose ethnicity is not stated, by category."""

    kind: Literal["completeness"]
    table: Text
    categories: tuple[DimensionName, ...] = Field(min_length=1)


Method = Annotated[
    Representation | RelativeLikelihoodMethod | BoardComparison | Completeness,
    Field(discriminator="kind"),
]


class Indicator(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=48)
    title: Text
    wres_england: int | None = Field(ge=1, le=9)
    """NHS England WRES indicator number, or None for a Wales-only indicator."""
    wales_domain: WalesDomain | None
    basis: Basis
    formula: Text
    provenance: tuple[Claim, ...] = Field(min_length=1)
    method: Method

    @property
    def table_names(self) -> tuple[str, ...]:
        """The count tables the indicator is computed from, in first-use order."""
        m = self.method
        if isinstance(m, Representation):
            names = [m.table] + ([m.comparator] if m.comparator else [])
        elif isinstance(m, RelativeLikelihoodMethod):
            names = [m.events, m.population]
        elif isinstance(m, BoardComparison):
            names = [*(x.table for x in m.memberships), m.workforce]
        else:
            names = [m.table]
        return tuple(dict.fromkeys(names))


class PercentColumn(_Model):
    table: Text
    along: DimensionName

    @property
    def column(self) -> str:
        """The cleared table's column (as ``governance.sdc.derived.percentages_of``)."""
        return f"percent_{self.along}"


def ethnic_dimension(spec: TableSpec) -> DimensionName:
    """Return the spec's ethnicity dimension (``ethnic_broad`` or ``wres_group``).

    Raises:
        ValueError: the spec has no ethnicity dimension.
    """
    for dim in spec.dimensions:
        if dim in ETHNIC_DIMENSIONS:
            return dim
    raise ValueError(f"table {spec.name!r} has no ethnicity dimension")


class Catalogue(_Model):
    """Every indicator and the count tables they need, cross-checked."""

    version: int = Field(ge=1)
    tables: tuple[TableSpec, ...] = Field(min_length=1)
    percentages: tuple[PercentColumn, ...] = ()
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    def table(self, name: str) -> TableSpec:
        """Return the table spec called ``name``.

        Raises:
            KeyError: no table has that name.
        """
        for spec in self.tables:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the indicator with this id.

        Raises:
            KeyError: no indicator has that id.
        """
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def tables_for(self, indicator_id: str) -> tuple[TableSpec, ...]:
        """The table specs one indicator needs."""
        return tuple(self.table(n) for n in self.indicator(indicator_id).table_names)

    def sources(self, indicator_id: str) -> tuple[Source, ...]:
        """The extract kinds an indicator is computed from."""
        return tuple(dict.fromkeys(s.source for s in self.tables_for(indicator_id)))

    def percent_column(self, table: str) -> str:
        """The percentage column of a table's ethnicity dimension.

        Raises:
            KeyError: the catalogue asks for no such column.
        """
        along = ethnic_dimension(self.table(table))
        for pc in self.percentages:
            if (pc.table, pc.along) == (table, along):
                return pc.column
        raise KeyError(f"{table}/percent_{along}")

    @model_validator(mode="after")
    def _cross_check(self) -> Catalogue:
        names = [t.name for t in self.tables]
        ids = [i.id for i in self.indicators]
        for kind, values in (("table", names), ("indicator", ids)):
            dup = next((v for v in values if values.count(v) > 1), None)
            if dup is not None:
                raise ValueError(f"{kind} {dup!r} is defined twice")
        for spec in self.tables:
            if spec.dimensions[0] != "body":
                raise ValueError(
                    f"table {spec.name!r}: the first dimension must be body"
                )
        used: set[str] = set()
        for indicator in self.indicators:
            for name in indicator.table_names:
                if name not in names:
                    raise ValueError(
                        f"indicator {indicator.id!r} names unknown table {name!r}"
                    )
                used.add(name)
        unused = [n for n in names if n not in used]
        if unused:
            raise ValueError(f"table {unused[0]!r} is used by no indicator")
        for pc in self.percentages:
            if pc.table not in names or pc.along not in self.table(pc.table).dimensions:
                raise ValueError(f"percentages: {pc.table}/{pc.along} is not a table's")
        for indicator in self.indicators:
            problem = self._check_method(indicator)
            if problem:
                raise ValueError(f"indicator {indicator.id!r}: {problem}")
        return self

    def _check_method(self, indicator: Indicator) -> str | None:
        m = indicator.method
        if isinstance(m, RelativeLikelihoodMethod):
            events, population = self.table(m.events), self.table(m.population)
            if EVENT_POPULATIONS.get(events.measure) != population.measure:
                return f"{events.measure} cannot be counted over {population.measure}"
            if events.dimensions != population.dimensions:
                return "events and population must have the same dimensions"
            if dict(events.filters) != dict(population.filters):
                return "events and population must have the same filters"
            if m.group_a == m.group_b:
                return "group_a and group_b must differ"
            return _has_ethnicity(events)
        if isinstance(m, BoardComparison):
            for membership in m.memberships:
                if self.table(membership.table).measure not in BOARD_MEASURES:
                    return f"table {membership.table!r} does not count board members"
            tables = [m.workforce, *(x.table for x in m.memberships)]
        else:
            tables = [m.table] + (
                [m.comparator] if isinstance(m, Representation) and m.comparator else []
            )
            spec = self.table(m.table)
            extra = [c for c in m.categories if c not in spec.dimensions]
            if extra or set(m.categories) & set(ETHNIC_DIMENSIONS):
                return "categories must be non-ethnicity dimensions of the table"
        for name in tables:
            spec = self.table(name)
            if spec.source != "board" and spec.measure != "headcount":
                return f"table {name!r} must count headcount"
            problem = _has_ethnicity(spec)
            if problem:
                return problem
            try:
                self.percent_column(name)
            except KeyError:
                return f"percentages must list {name!r} along its ethnicity dimension"
        return None


def _has_ethnicity(spec: TableSpec) -> str | None:
    try:
        ethnic_dimension(spec)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class CellRef:
    """A cell of a table spec: ``(dimension, code)`` pairs; left-out dimensions are
    at their total (``DIMENSION_TOTALS``; ``Ethnic minority`` is a total of
    ``ethnic_broad``)."""

    table: str
    codes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PercentRequest:
    """Add ``column`` to ``table``: each cell's percentage of its parent along ``along``."""

    table: str
    along: DimensionName
    column: str


@dataclass(frozen=True)
class RateRequest:
    """A percentage ``events / population * 100`` across two tables."""

    name: str
    events: CellRef
    population: CellRef


@dataclass(frozen=True)
class LikelihoodRequest:
    """``(events_a / population_a) / (events_b / population_b)`` with its interval."""

    name: str
    events_a: CellRef
    population_a: CellRef
    events_b: CellRef
    population_b: CellRef


DerivedRequest = PercentRequest | RateRequest | LikelihoodRequest


def likelihood_name(indicator_id: str, body: str) -> str:
    """Name of the relative likelihood of an indicator for one body code."""
    return f"{indicator_id}/rl/{body}"


def rate_name(indicator_id: str, group: str, body: str) -> str:
    """Name of one group's rate (a percentage) of an indicator for one body code."""
    return f"{indicator_id}/rate/{group}/{body}"


def derived_requests(
    catalogue: Catalogue, body_codes: Sequence[str]
) -> tuple[DerivedRequest, ...]:
    """Every derived value the engine must compute, for these body codes.

    ``body_codes`` are the codes of the body dimension the tables are cleared with,
    totals included (``Wales``, the body types, each body). Percentages come first,
    then each relative-likelihood indicator's two rates and its likelihood per body.
    """
    out: list[DerivedRequest] = [
        PercentRequest(pc.table, pc.along, pc.column) for pc in catalogue.percentages
    ]
    for indicator in catalogue.indicators:
        m = indicator.method
        if not isinstance(m, RelativeLikelihoodMethod):
            continue
        dim = ethnic_dimension(catalogue.table(m.events))
        for body in body_codes:

            def ref(
                table: str, group: str, body: str = body, dim: str = dim
            ) -> CellRef:
                return CellRef(table, (("body", body), (dim, group)))

            for group in (m.group_a, m.group_b):
                out.append(
                    RateRequest(
                        rate_name(indicator.id, group, body),
                        ref(m.events, group),
                        ref(m.population, group),
                    )
                )
            out.append(
                LikelihoodRequest(
                    likelihood_name(indicator.id, body),
                    ref(m.events, m.group_a),
                    ref(m.population, m.group_a),
                    ref(m.events, m.group_b),
                    ref(m.population, m.group_b),
                )
            )
    return tuple(out)


def parse_catalogue(text: str, source: str = CATALOGUE_FILE_NAME) -> Catalogue:
    """Validate a catalogue given as YAML text.

    Raises:
        ConfigError: the text is not YAML or does not validate; the message names the
            key, never a value.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"indicator catalogue {source} is not valid YAML{where}"
        ) from None
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"indicator catalogue {source} is invalid: {loc}: {first['msg']}{more}"
        ) from None


@functools.cache
def load_catalogue() -> Catalogue:
    """Return the shipped catalogue, validated once and cached.

    Raises:
        ConfigError: the shipped catalogue is missing or invalid.
    """
    resource = resources.files("governance").joinpath("data", CATALOGUE_FILE_NAME)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"indicator catalogue {CATALOGUE_FILE_NAME} cannot be read"
            f" ({type(exc).__name__})"
        ) from None
    return parse_catalogue(text)
