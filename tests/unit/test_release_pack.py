"""How a request's tables become a pack: linked sets by population, subsets, derived
values, the approved pattern, and which indicators a pack can report."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest

from governance.errors import ReleaseError, TableError
from governance.indicators import load_catalogue
from governance.release_pack import (
    approved_patterns,
    pack_catalogue,
    plan_pack,
)
from governance.release_render import IndicatorSheet, Notes, render_workbook
from governance.request_specs import NATIONAL_PACK, NATIONAL_TABLES, pack_specs
from governance.sdc.clear import apply
from governance.sdc.pack import CrossLikelihood, CrossRate, Subset
from governance.sdc.policy import load_policy
from governance.sdc.table import InputCell, Table
from governance.tablespec import TableSpec
from tests.report_support import engine_dimensions

CATALOGUE = load_catalogue()
POLICY = load_policy("wres-wales")


def counted(spec: TableSpec, value: int = 12) -> tuple[TableSpec, Table]:
    """Every leaf cell of a spec at ``value`` (whole-pack sums stay consistent)."""
    dims = engine_dimensions(spec)
    cells = [
        InputCell(codes, float(value))
        for codes in itertools.product(*(d.leaves for d in dims))
    ]
    return spec, Table.from_cells(spec.name, dims, cells)


def test_the_national_pack_is_the_protectable_catalogue_tables() -> None:
    specs = pack_specs(NATIONAL_PACK)
    assert [s.name for s in specs] == list(NATIONAL_TABLES)
    assert {t.name for t in CATALOGUE.tables} == set(NATIONAL_TABLES)
    with pytest.raises(TableError, match="wres-national"):
        pack_specs("no-such-pack")


def test_tables_are_grouped_by_population_with_fixed_codes_and_subsets() -> None:
    # shared cells agree: each body and ethnic group has 12 staff in every staff
    # group, and the medical subgroups of group 01 add up to its 12
    subgroups = engine_dimensions(CATALOGUE.table("staff_medical_ethnicity"))[1]
    groups = engine_dimensions(CATALOGUE.table("staff_group_ethnicity"))[1]
    tables = {n: counted(CATALOGUE.table(n)) for n in NATIONAL_TABLES}
    tables["staff_ethnicity"] = counted(
        CATALOGUE.table("staff_ethnicity"), 12 * len(groups.leaves)
    )
    tables["staff_medical_ethnicity"] = counted(
        CATALOGUE.table("staff_medical_ethnicity"), 12 // len(subgroups.leaves)
    )
    assert 12 % len(subgroups.leaves) == 0
    plan = plan_pack(list(tables.values()), catalogue=CATALOGUE)
    sets = [[t.name for t in c.linked.tables] for c in plan.components]
    assert sets[0] == [
        "staff_ethnicity",
        "staff_group_ethnicity",
        "staff_medical_ethnicity",
    ]
    # 12 in every band does not add up to the staff groups' counts: the band table
    # stays a population of its own, named for review
    assert sets[1] == ["staff_band_ethnicity"]
    assert plan.unlinked == ("staff_band_ethnicity",)
    assert len(sets) == 9 and all(len(s) == 1 for s in sets[1:])
    assert plan.components[0].linked.fixed["staff_medical_ethnicity"] == (
        ("staff_group", "01"),
    )
    assert set(plan.subsets) == {
        Subset("recruitment_appointed", "recruitment_shortlisted"),
        Subset("disciplinary_entered", "staff_ethnicity"),
        Subset("capability_entered", "staff_ethnicity"),
        Subset("training_accessed", "staff_ethnicity"),
    }
    # percentages inside each set, rates and likelihoods across them, for 16 bodies
    columns = {
        d.column for c in plan.components for d in c.derived if hasattr(d, "column")
    }
    assert ("staff_medical_ethnicity", "percent_ethnic_broad") in columns
    assert ("staff_band_ethnicity", "percent_wres_group") in columns
    assert sum(isinstance(x, CrossLikelihood) for x in plan.cross) == 4 * 16
    assert sum(isinstance(x, CrossRate) for x in plan.cross) == 2 * 4 * 16


def afc_consistent_tables() -> list[tuple[TableSpec, Table]]:
    """Staff groups at 12 per leaf; AfC staff all in band 5 (clinical) or 3
    (non-clinical), so each clinical margin is its staff groups' sum."""
    group_spec = CATALOGUE.table("staff_group_ethnicity")
    band_spec = CATALOGUE.table("staff_band_ethnicity")
    per_wres = {"White": 12, "Ethnic minority": 4 * 12, "Not stated": 12}
    body, clinical, band, wres = engine_dimensions(band_spec)
    cells = []
    for codes in itertools.product(
        body.leaves, clinical.leaves, band.leaves, wres.leaves
    ):
        _, flag, pay, group = codes
        size = 6 if flag == "clinical" else 2  # groups 02-07, and 08-09
        wanted = "5" if flag == "clinical" else "3"
        count = size * per_wres[group] if pay == wanted else 0
        cells.append(InputCell(codes, float(count)))
    band_table = Table.from_cells(band_spec.name, [body, clinical, band, wres], cells)
    return [counted(group_spec), (band_spec, band_table)]


def test_the_band_table_joins_the_staff_population_where_its_margins_add_up() -> None:
    plan = plan_pack(afc_consistent_tables())
    assert plan.unlinked == ()
    (component,) = plan.components
    linked = component.linked
    assert [t.name for t in linked.tables] == [
        "staff_group_ethnicity",
        "staff_band_ethnicity",
    ]
    # its cells are kept apart from the whole population's by the AfC pin
    assert linked.fixed["staff_band_ethnicity"] == (("pay_scale", "AfC"),)
    # one link per body, clinical flag and WRES group
    assert len(linked.links) == 12 * 2 * 3
    total = linked.index_of(
        {"body": "7A1", "clinical": "non-clinical", "wres_group": "Ethnic minority",
         "pay_scale": "AfC"}
    )  # fmt: skip
    parts = {
        linked.index_of({"body": "7A1", "staff_group": g, "ethnic_broad": "Ethnic minority"})
        for g in ("08", "09")
    }  # fmt: skip
    assert any(
        r.total == total and set(r.children) == parts for r in linked.relations()
    )


def test_a_band_table_that_does_not_add_up_is_left_apart() -> None:
    group, (spec, band) = afc_consistent_tables()
    values = band.values.copy()
    values[band.position(["7A1", "clinical", "5", "White"])] += 1
    cells = [
        InputCell(codes, float(values[band.position(codes)]))
        for codes in itertools.product(*(d.leaves for d in band.dimensions))
    ]
    broken = Table.from_cells(spec.name, list(band.dimensions), cells)
    plan = plan_pack([group, (spec, broken)])
    assert len(plan.components) == 2
    assert plan.unlinked == ("staff_band_ethnicity",)


def test_a_restricted_population_is_its_own_set_and_is_named() -> None:
    band = CATALOGUE.table("staff_band_ethnicity")
    plan = plan_pack([counted(CATALOGUE.table("staff_ethnicity")), counted(band)])
    assert len(plan.components) == 2
    assert plan.unlinked == ("staff_band_ethnicity",)
    assert plan.cross == () and all(c.derived == () for c in plan.components)


def test_the_approved_pattern_is_read_back_from_the_evidence() -> None:
    plan = plan_pack([counted(CATALOGUE.table("staff_ethnicity"))])
    linked = plan.components[0].linked
    evidence: dict[str, Any] = {
        "linked_sets": [
            {
                "tables": [{"name": "staff_ethnicity"}],
                "audit": {
                    "hidden": [{"cell": {"body": "7A1", "ethnic_broad": "Mixed"}}]
                },
            }
        ]
    }
    (mask,) = approved_patterns(evidence, plan.components)
    assert mask is not None and int(mask.sum()) == 1
    assert bool(mask[linked.index_of({"body": "7A1", "ethnic_broad": "Mixed"})])
    evidence["linked_sets"][0]["audit"]["hidden"] = [{"cell": {"body": "XX"}}]
    assert approved_patterns(evidence, plan.components) == [None]
    assert approved_patterns({"outcome": "fail"}, plan.components) == [None]


def test_a_pack_reports_only_indicators_whose_tables_it_holds() -> None:
    assert pack_catalogue(CATALOGUE, ["board_voting"]) is None
    national = pack_catalogue(CATALOGUE, NATIONAL_TABLES)
    assert national is not None
    ids = [i.id for i in national.indicators]
    assert ids == [i.id for i in CATALOGUE.indicators]
    without = pack_catalogue(
        CATALOGUE, [t for t in NATIONAL_TABLES if t != "staff_band_ethnicity"]
    )
    assert without is not None
    assert "afc-bands" not in [i.id for i in without.indicators]
    assert {t.name for t in national.tables} == set(NATIONAL_TABLES)


def test_indicator_sheets_follow_the_notes_and_never_take_a_table_name() -> None:
    plan = plan_pack([counted(CATALOGUE.table("staff_ethnicity"), 30)])
    cleared = apply(plan.components[0].linked, POLICY)
    notes = Notes("R1", "1", "t", "a purpose", "2026-11-26T00:00:00.000000Z", POLICY)
    moment = datetime(2026, 11, 26, tzinfo=UTC)
    sheet = IndicatorSheet(
        "workforce", "Workforce", (("caption",), ("Scope", "x"), ("All Wales", "9.5"))
    )
    book = openpyxl.load_workbook(
        io.BytesIO(render_workbook(cleared, notes, moment, [sheet]))
    )
    assert book.sheetnames == ["notes", "workforce", "staff_ethnicity"]
    assert book["workforce"]["B3"].value == 9.5  # a plain number is a number
    for name in ("staff_ethnicity", "x" * 32, "notes"):
        with pytest.raises(ReleaseError, match="too long or taken"):
            render_workbook(cleared, notes, moment, [IndicatorSheet(name, "t", ())])
