"""How a request's tables become a pack: linked sets by population, subsets, derived
values, the approved pattern, and which indicators a pack can report."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime

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
    assert "staff_band_ethnicity" not in NATIONAL_TABLES
    with pytest.raises(TableError, match="wres-national"):
        pack_specs("no-such-pack")


def test_tables_are_grouped_by_population_with_fixed_codes_and_subsets() -> None:
    # shared cells agree: each body and ethnic group has 12 staff in every staff
    # group, and the medical subgroups of group 01 add up to its 12
    subgroups = engine_dimensions(CATALOGUE.table("staff_medical_ethnicity"))[1]
    groups = engine_dimensions(CATALOGUE.table("staff_group_ethnicity"))[1]
    tables = [counted(CATALOGUE.table(n)) for n in NATIONAL_TABLES]
    tables[0] = counted(CATALOGUE.table("staff_ethnicity"), 12 * len(groups.leaves))
    tables[2] = counted(
        CATALOGUE.table("staff_medical_ethnicity"), 12 // len(subgroups.leaves)
    )
    assert 12 % len(subgroups.leaves) == 0
    plan = plan_pack(tables, catalogue=CATALOGUE)
    sets = [[t.name for t in c.linked.tables] for c in plan.components]
    assert sets[0] == [
        "staff_ethnicity",
        "staff_group_ethnicity",
        "staff_medical_ethnicity",
    ]
    assert len(sets) == 8 and all(len(s) == 1 for s in sets[1:])
    assert plan.components[0].linked.fixed["staff_medical_ethnicity"] == (
        ("staff_group", "01"),
    )
    assert set(plan.subsets) == {
        Subset("recruitment_appointed", "recruitment_shortlisted"),
        Subset("disciplinary_entered", "staff_ethnicity"),
        Subset("capability_entered", "staff_ethnicity"),
        Subset("training_accessed", "staff_ethnicity"),
    }
    assert plan.unlinked == ()
    # percentages inside each set, rates and likelihoods across them, for 16 bodies
    columns = {
        d.column for c in plan.components for d in c.derived if hasattr(d, "column")
    }
    assert ("staff_medical_ethnicity", "percent_ethnic_broad") in columns
    assert sum(isinstance(x, CrossLikelihood) for x in plan.cross) == 4 * 16
    assert sum(isinstance(x, CrossRate) for x in plan.cross) == 2 * 4 * 16


def test_a_restricted_population_is_its_own_set_and_is_named() -> None:
    band = CATALOGUE.table("staff_band_ethnicity")
    plan = plan_pack([counted(CATALOGUE.table("staff_ethnicity")), counted(band)])
    assert len(plan.components) == 2
    assert plan.unlinked == ("staff_band_ethnicity",)
    assert plan.cross == () and all(c.derived == () for c in plan.components)


def test_the_approved_pattern_is_read_back_from_the_evidence() -> None:
    plan = plan_pack([counted(CATALOGUE.table("staff_ethnicity"))])
    linked = plan.components[0].linked
    evidence = {
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
    assert "afc-bands" not in ids and len(ids) == len(CATALOGUE.indicators) - 1
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
