"""The release pack's charts and HTML report: present, well formed, and leak-free.

The pack is cleared from the literal counts below with chosen hidden cells
(``tests/report_support.py``). Two hidden cells have distinctive true values, 1487 and
3571, so a leak would show as that text; the small ones (1 to 9) are checked by a
metamorphic test instead: changing hidden values while keeping every published cell
of the scope gives byte-identical output.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import yaml

from governance.charts import BarChart, Point, Series
from governance.indicator_values import CountTable
from governance.indicators import load_catalogue, parse_catalogue
from governance.published import Published, code_label, number
from governance.reference import load_reference
from governance.report import PackContext, chart_file_name, render_charts, render_html
from governance.sdc import clear as clear_module
from governance.sdc.clear import ClearedCell, ClearedTable, apply
from governance.sdc.derived import DerivedValue, percentages_of
from governance.sdc.linked import LinkedSet
from governance.sdc.policy import Labels, load_policy
from governance.sdc.table import InputCell, Table
from tests.report_support import Hidden, build_pack, engine_dimensions

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
LEAKS = ("1487", "3571")  # true values of secondary cells

COUNTS: dict[str, CountTable] = {
    "staff_ethnicity": {
        # 7A1: White 8000, minority 120 + 1500 + 400 + 300 = 2320, not stated 600
        ("7A1", "White"): 8000,
        ("7A1", "Mixed"): 120,
        ("7A1", "Asian"): 1500,
        ("7A1", "Black"): 400,
        ("7A1", "Other"): 300,
        ("7A1", "Not stated"): 600,
        # RYT: Mixed 3 is primary, Asian 1487 hidden as its complement; minority 1515
        ("RYT", "White"): 2000,
        ("RYT", "Mixed"): 3,
        ("RYT", "Asian"): 1487,
        ("RYT", "Black"): 11,
        ("RYT", "Other"): 14,
        ("RYT", "Not stated"): 20,
    },
    "staff_band_ethnicity": {  # by WRES group, as indicator 1 reports it
        ("7A1", "clinical", "5", "White"): 900,
        ("7A1", "clinical", "5", "Ethnic minority"): 310,
        ("7A1", "clinical", "5", "Not stated"): 40,
        ("7A1", "clinical", "6", "White"): 700,
        ("7A1", "clinical", "6", "Ethnic minority"): 90,
        ("7A1", "clinical", "8a", "White"): 50,
        ("7A1", "clinical", "8a", "Ethnic minority"): 5,
        ("7A1", "clinical", "VSM", "White"): 12,
        ("7A1", "non-clinical", "3", "White"): 400,
        ("7A1", "non-clinical", "3", "Ethnic minority"): 20,
        ("RYT", "clinical", "5", "White"): 300,
        ("RYT", "clinical", "5", "Ethnic minority"): 40,
    },
    "staff_medical_ethnicity": {
        ("7A1", "Consultants", "White"): 200,
        ("7A1", "Consultants", "Asian"): 90,
        ("7A1", "Trainee grades", "White"): 150,
        ("7A1", "Trainee grades", "Asian"): 60,
        ("RYT", "Consultants", "White"): 15,
        ("RYT", "Consultants", "Asian"): 6,
    },
    "staff_group_ethnicity": {
        ("7A1", "03", "White"): 5000,
        ("7A1", "03", "Mixed"): 100,
        ("7A1", "03", "Asian"): 1200,
        ("7A1", "03", "Black"): 300,
        ("7A1", "03", "Other"): 200,
        ("7A1", "03", "Not stated"): 400,
        ("7A1", "08", "White"): 3000,
        ("7A1", "08", "Mixed"): 20,
        ("7A1", "08", "Asian"): 300,
        ("7A1", "08", "Black"): 100,
        ("7A1", "08", "Other"): 100,
        ("7A1", "08", "Not stated"): 200,
        ("RYT", "08", "White"): 1400,
        ("RYT", "08", "Asian"): 1487,
        ("RYT", "06", "White"): 600,
        ("RYT", "06", "Mixed"): 3,
        ("RYT", "06", "Black"): 11,
        ("RYT", "06", "Other"): 14,
        ("RYT", "06", "Not stated"): 20,
    },
    "recruitment_shortlisted": {
        ("7A1", "White"): 400,
        ("7A1", "Ethnic minority"): 200,
        ("7A1", "Not stated"): 50,
        ("RYT", "White"): 100,
        ("RYT", "Ethnic minority"): 3571,
    },
    "recruitment_appointed": {
        ("7A1", "White"): 80,
        ("7A1", "Ethnic minority"): 20,
        ("7A1", "Not stated"): 10,
        ("RYT", "White"): 10,
        ("RYT", "Ethnic minority"): 40,
    },
    "disciplinary_entered": {
        ("7A1", "White"): 40,
        ("7A1", "Asian"): 15,
        ("7A1", "Black"): 5,
        ("7A1", "Not stated"): 3,
        ("RYT", "White"): 12,
        ("RYT", "Other"): 1,
    },
    "capability_entered": {("7A1", "White"): 10, ("7A1", "Asian"): 10},
    "training_accessed": {
        ("7A1", "White"): 4000,
        ("7A1", "Asian"): 700,
        ("7A1", "Black"): 200,
        ("7A1", "Other"): 100,
        ("7A1", "Mixed"): 50,
        ("7A1", "Not stated"): 100,
        ("RYT", "White"): 1000,
        ("RYT", "Asian"): 500,
        ("RYT", "Black"): 5,
    },
    "board_voting": {
        ("7A1", "White"): 12,
        ("7A1", "Ethnic minority"): 10,
        ("RYT", "White"): 9,
        ("RYT", "Ethnic minority"): 1,
    },
    "board_executive": {
        ("7A1", "White"): 5,
        ("7A1", "Ethnic minority"): 1,
        ("RYT", "White"): 4,
    },
}
# The complements: each hidden cell and its copies up the body hierarchy (RYT is the
# only trust with data, so the trusts' cell is the same number).
SECONDARY: Hidden = {
    "staff_ethnicity": {("RYT", "Asian"), ("nhs_trust", "Asian")},
    "staff_group_ethnicity": {
        (body, group, "Asian")
        for body in ("RYT", "nhs_trust")
        for group in ("08", "All")
    },
    "recruitment_shortlisted": {
        (body, group)
        for body in ("RYT", "nhs_trust")
        for group in ("Ethnic minority", "All")
    },
}
IDS = [i.id for i in load_catalogue().indicators]


def context(scope: str = "Wales", **changes: object) -> PackContext:
    base: dict[str, object] = {
        "title": "NHS Wales Workforce Race Equality Standard 2026",
        "scope": scope,
        "period": 2026,
        "policy_id": "wres-wales",
        "policy_version": 1,
        "policy_sha256": "ab" * 32,
        "release_date": date(2026, 9, 1),
    }
    return PackContext(**(base | changes))  # type: ignore[arg-type]  # test overrides


def pack(
    counts: Mapping[str, CountTable] = COUNTS, secondary: Hidden = SECONDARY
) -> tuple[list[ClearedTable], list[DerivedValue]]:
    return build_pack(counts, secondary)


def parse_xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - parses our own output, not untrusted input


def svg_texts(root: ET.Element, cls: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}text") if cls is None or e.get("class") == cls]


def title_of(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    return "" if found is None or found.text is None else found.text


class TagBalance(HTMLParser):
    """Checks every opened tag is closed in order (void elements self-close)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_one_chart_per_indicator_each_a_well_formed_svg() -> None:
    tables, derived = pack()
    charts = render_charts(context(), tables, derived)
    assert list(charts) == [chart_file_name(i) for i in IDS]
    for name, text in charts.items():
        root = parse_xml(text)
        assert root.tag == f"{SVG}svg", name
        assert root.get("role") == "img"
        assert title_of(root)
        bars = list(root.iter(f"{SVG}rect"))
        assert len(bars) > 1, name  # the background and at least one bar or legend


def test_hidden_values_are_gaps_with_their_symbol_never_zero_bars() -> None:
    tables, derived = pack()
    root = parse_xml(
        render_charts(context("7A1"), tables, derived)["chart-afc-bands.svg"]
    )
    bars = {title_of(r) for r in root.iter(f"{SVG}rect")}
    gaps = {title_of(t): t.text for t in svg_texts(root, "gap")}
    # band 8a clinical: 5 Asian staff, a primary count, so the percentage is hidden
    assert gaps["Band 8a: Clinical: [c] (not published)"] == "[c]"
    assert not any(b.startswith("Band 8a: Clinical") for b in bars)
    # a band with nobody in it has no percentage: a gap marked [z], not a zero bar
    assert gaps["Band 9: Clinical: [z] (not published)"] == "[z]"
    # a published zero (12 White VSM staff, no minority) is a bar of width 0
    assert "VSM: Clinical: 0.0" in bars
    zero = next(
        r for r in root.iter(f"{SVG}rect") if title_of(r) == "VSM: Clinical: 0.0"
    )
    assert float(zero.get("width", "-1")) == 0.0
    # clinical band 5: 310 minority of 1250 = 24.8 %, a real bar
    assert "Band 5: Clinical: 24.8" in bars


def test_relative_likelihood_chart_has_whiskers_and_the_line_of_equality() -> None:
    tables, derived = pack()
    svg = render_charts(context(), tables, derived)["chart-disciplinary.svg"]
    root = parse_xml(svg)
    assert any(p.get("d", "").startswith("M") for p in root.iter(f"{SVG}path"))
    assert "Equal likelihood (1.0)" in {t.text for t in svg_texts(root)}
    gaps = {title_of(t) for t in svg_texts(root, "gap")}
    # RYT: one minority member of staff entered (a primary count), so it is hidden
    assert "PHW (RYT): [c] (not published)" in gaps
    # Velindre has no data at all: not computable
    assert "VUNHST (RQF): [z] (not published)" in gaps


def test_html_is_well_formed_and_has_every_section() -> None:
    tables, derived = pack()
    html = render_html(context(), tables, derived)
    root = parse_xml(html)  # XHTML: any XML parser reads it
    assert root.tag == f"{XHTML}html"
    sections = {s.get("id") for s in root.iter(f"{XHTML}section")}
    assert sections == {*IDS, "notes"}
    figures = list(root.iter(f"{XHTML}figure"))
    assert len(figures) == len(IDS)
    assert all(f.find(f"{SVG}svg") is not None for f in figures)
    checker = TagBalance()
    checker.feed(html)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert html.startswith("<!DOCTYPE html>\n")


def test_notes_explain_the_symbols_with_the_policy_and_date() -> None:
    tables, derived = pack()
    root = parse_xml(render_html(context(), tables, derived))
    notes = next(s for s in root.iter(f"{XHTML}section") if s.get("id") == "notes")
    terms = [dt.text for dt in notes.iter(f"{XHTML}dt")]
    assert terms == ["<10", "[c]", "[z]"]
    text = "".join(notes.itertext())
    assert "wres-wales version 1" in text and "2026-09-01" in text
    assert "ab" * 32 in text
    custom = context(
        labels=Labels(primary="<10", secondary="[x]", not_computable="[n]")
    )
    notes_custom = render_html(custom, tables, derived)
    assert "<dt>[x]</dt>" in notes_custom and "<dt>[n]</dt>" in notes_custom


def test_tables_show_symbols_where_values_are_hidden() -> None:
    tables, derived = pack()
    root = parse_xml(render_html(context("RYT"), tables, derived))
    section = next(
        s for s in root.iter(f"{XHTML}section") if s.get("id") == "workforce"
    )
    table = next(section.iter(f"{XHTML}table"))
    header = [th.text for th in table.iter(f"{XHTML}th") if th.get("scope") == "col"]
    row = next(table.iter(f"{XHTML}tbody")).find(f"{XHTML}tr")
    assert row is not None
    cells = dict(zip(header, ["".join(c.itertext()) for c in row], strict=True))
    assert cells["Mixed"] == "<10"  # 3 people
    assert cells["Asian"] == "[c]"  # its complement
    assert cells["Ethnic minority"] == "1515"
    assert cells["Ethnic minority %"] == "42.9"  # 1515 / 3535
    hidden = [c for c in row if c.get("class") == "hidden"]
    assert {"".join(c.itertext()) for c in hidden} == {"<10", "[c]"}


def test_no_hidden_true_value_appears_anywhere() -> None:
    tables, derived = pack()
    for scope in ("Wales", "nhs_trust", "RYT", "7A1"):
        outputs = [render_html(context(scope), tables, derived)]
        outputs += render_charts(context(scope), tables, derived).values()
        for text in outputs:
            for leak in LEAKS:
                assert leak not in text, (scope, leak)


def test_output_depends_only_on_the_published_cells_of_the_scope() -> None:
    # Move hidden amounts within RYT: Mixed 3 -> 5 and Asian 1487 -> 1485 keep every
    # published RYT cell (minority 1515, all 3535); shortlisted minority 3571 -> 3570
    # changes only hidden cells (RYT's shortlisted total is hidden with it). Cells
    # above RYT (the trusts, Wales) change, but a scope shows only itself and below.
    changed = {name: dict(table) for name, table in COUNTS.items()}
    changed["staff_ethnicity"] |= {("RYT", "Mixed"): 5, ("RYT", "Asian"): 1485}
    changed["recruitment_shortlisted"] |= {("RYT", "Ethnic minority"): 3570}
    first, second = pack(), pack(changed)
    for scope in ("RYT",):
        assert render_html(context(scope), *first) == render_html(
            context(scope), *second
        )
        assert render_charts(context(scope), *first) == render_charts(
            context(scope), *second
        )
    # and the check can fail: a published cell that changes changes the output
    changed["staff_ethnicity"] |= {("RYT", "White"): 2001}
    third = pack(changed)
    assert render_html(context("RYT"), *first) != render_html(context("RYT"), *third)


def test_every_text_is_escaped() -> None:
    tables, derived = pack()
    html = render_html(context(title="Board <b>pack</b> & 'notes'"), tables, derived)
    assert "Board &lt;b&gt;pack&lt;/b&gt; &amp; &#x27;notes&#x27;" in html
    assert "<b>" not in html
    parse_xml(html)


def test_rendering_is_deterministic() -> None:
    tables, derived = pack()
    assert render_html(context(), tables, derived) == render_html(
        context(), tables, derived
    )
    assert render_charts(context(), tables, derived) == render_charts(
        context(), tables, derived
    )


def text_of(html: str, section_id: str) -> str:
    root = parse_xml(html)
    section = next(s for s in root.iter(f"{XHTML}section") if s.get("id") == section_id)
    headline = next(
        d for d in section.iter(f"{XHTML}div") if d.get("class") == "headline"
    )
    return " ".join("".join(p.itertext()) for p in headline)


def test_headlines_use_published_figures_and_say_why_others_are_missing() -> None:
    tables, derived = pack()
    wales = render_html(context(), tables, derived)
    # 7A1 only, disciplinary: minority 20 of 2320 over White 40 of 8000 = 1.72
    assert "were 1.72 times as likely as White staff" in text_of(
        render_html(context("7A1"), tables, derived), "disciplinary"
    )
    assert "95 % confidence interval" in text_of(wales, "disciplinary")
    ryt = render_html(context("RYT"), tables, derived)
    assert "is not published ([c])" in text_of(ryt, "appointment-from-shortlisting")
    assert "cannot be computed ([z])" in text_of(ryt, "capability")
    # board: 10 of 22 voting members = 45.5 % against 2320 / 10920 = 21.2 %: +24.3
    board = text_of(render_html(context("7A1"), tables, derived), "board")
    assert "45.5 % of the membership against 21.2 % of the workforce" in board
    assert "a difference of +24.3 percentage points" in board
    assert (
        "Executive members: the comparison with the workforce is not published" in board
    )
    # workforce by body: 11 of the 16 rows (empty bodies and types) have nobody
    workforce = text_of(wales, "workforce")
    assert "Ethnic minority staff make up 26.5 % of the workforce in All Wales" in (
        workforce
    )
    assert "Cannot be computed ([z]): 11 of the 16 figures" in workforce
    assert "Not published" not in workforce
    # 7A1 by band: band 8a clinical is hidden; 21 bands have nobody in them
    bands = text_of(render_html(context("7A1"), tables, derived), "afc-bands")
    assert "Not published: 1 of the 26 figures in the chart" in bands
    assert "Cannot be computed ([z]): 21 of the 26 figures" in bands
    assert "highest for Band 5 (Clinical) (24.8 %)" in bands
    assert "lowest for VSM (Clinical) (0.0 %)" in bands
    completeness = text_of(wales, "completeness")
    assert "Ethnicity is not stated or not known for" in completeness


def test_a_pack_missing_what_the_catalogue_needs_is_refused() -> None:
    tables, derived = pack()
    without = [t for t in tables if t.name != "board_voting"]
    with pytest.raises(KeyError, match="no cleared table 'board_voting'"):
        render_html(context(), without, derived)
    with pytest.raises(KeyError, match="no derived value 'disciplinary/rl/Wales'"):
        render_html(
            context(), tables, [d for d in derived if d.name != "disciplinary/rl/Wales"]
        )
    with pytest.raises(KeyError, match="scope 'XYZ'"):
        render_charts(context("XYZ"), tables, derived)


def test_a_pack_cleared_by_the_engine_renders_without_its_hidden_values() -> None:
    # The engine chooses the complements itself; every count but the small ones has
    # four distinctive digits, so any hidden one leaking would show as that text.
    pytest.importorskip(
        "governance.sdc.suppress", reason="the engine's suppression methods are not in"
    )
    catalogue = parse_catalogue(
        "version: 1\n"
        "tables:\n"
        "  - {name: staff_ethnicity, source: staff, measure: headcount,"
        " dimensions: [body, ethnic_broad]}\n"
        "percentages:\n"
        "  - {table: staff_ethnicity, along: ethnic_broad}\n"
        "indicators:\n"
        + "\n".join(
            "  " + line
            for line in yaml.safe_dump(
                [load_catalogue().indicator("workforce").model_dump(mode="json")],
                sort_keys=False,
            ).splitlines()
        )
        + "\n"
    )
    counts = {
        ("7A1", "White"): 8123,
        ("7A1", "Asian"): 1379,
        ("7A1", "Black"): 4,
        ("7A1", "Other"): 2468,
        ("7A1", "Not stated"): 1357,
        ("RYT", "White"): 3142,
        ("RYT", "Asian"): 2718,
        ("RYT", "Mixed"): 1618,
        ("RYT", "Not stated"): 1414,
    }
    spec = catalogue.table("staff_ethnicity")
    table = Table.from_cells(
        spec.name,
        engine_dimensions(spec),
        [InputCell(k, float(v)) for k, v in counts.items()],
    )
    cleared = apply(
        LinkedSet([table]),
        load_policy("wres-wales"),
        derived=percentages_of(table, "ethnic_broad"),
    )
    out = cleared.table(spec.name)
    hidden = {c.codes for c in out.cells if c.status != "published"}
    assert hidden, "the small Black count must be hidden with its complements"
    truth = {codes: int(table.counts[table.position(codes)]) for codes in table.cells()}
    for scope in ("Wales", "7A1", "RYT"):
        html = render_html(
            context(scope), cleared.tables, cleared.derived, catalogue=catalogue
        )
        svg = render_charts(
            context(scope), cleared.tables, cleared.derived, catalogue=catalogue
        )
        for codes in hidden:
            if truth[codes] >= 1000:
                assert str(truth[codes]) not in html + "".join(svg.values()), codes
        parse_xml(html)


def test_chart_series_must_match_the_categories() -> None:
    with pytest.raises(ValueError, match="needs one point per category"):
        BarChart(
            id="c",
            title="t",
            description="d",
            categories=("a", "b"),
            series=(Series("s", (Point("1", Decimal(1)),)),),
            value_label="v",
        )


def test_published_lookups_name_what_is_missing() -> None:
    tables, derived = pack()
    pub = Published(tables, derived, load_reference())
    with pytest.raises(KeyError, match="no dimension 'pay_band'"):
        pub.dimension("staff_ethnicity", "pay_band")
    with pytest.raises(KeyError, match="no cell"):
        pub.cell("staff_ethnicity", {"body": "7A1", "pay_band": "5"})
    with pytest.raises(KeyError, match="no cell"):
        pub.cell("staff_ethnicity", {"body": "XYZ"})
    with pytest.raises(KeyError, match="no column 'percent_wres_group'"):
        pub.percent("staff_ethnicity", "percent_wres_group", {"body": "7A1"})
    assert pub.ethnicity("board_voting") == "wres_group"
    group = pub.dimension("staff_group_ethnicity", "staff_group")
    assert code_label(group, "08", load_reference()) == "Administrative and Clerical"
    assert code_label(group, "99", load_reference()) == "99"
    body = pub.dimension("staff_ethnicity", "body")
    assert code_label(body, "ZZZ", load_reference()) == "ZZZ"
    assert code_label(body, "Wales", load_reference()) == "All Wales"
    assert number("12.5") == Decimal("12.5") and number("[c]") is None


def test_a_table_without_an_ethnicity_dimension_is_refused() -> None:
    tables, derived = pack()
    dims = tables[0].dimensions[:1]
    cells = tuple(
        ClearedCell((c.codes[0],), c.display, c.status)
        for c in tables[0].cells
        if c.codes[1] == "All"
    )
    lone = ClearedTable(
        name="lone",
        dimensions=dims,
        measure="count",
        cells=cells,
        extra_columns=(),
        token=clear_module._TOKEN,
    )
    pub = Published([*tables, lone], derived, load_reference())
    with pytest.raises(KeyError, match="no ethnicity dimension"):
        pub.ethnicity("lone")


def test_headline_copes_with_a_likelihood_without_interval_or_rates() -> None:
    # The engine always gives a published likelihood its interval and publishes its
    # rates; a pack that does not still renders, saying less.
    tables, derived = pack()
    name, rate = "disciplinary/rl/7A1", "disciplinary/rate/White/7A1"
    changed = [
        replace(d, interval=None)
        if d.name == name
        else replace(d, status="suppressed", display="[c]", value=None)
        if d.name == rate
        else d
        for d in derived
    ]
    text = text_of(render_html(context("7A1"), tables, changed), "disciplinary")
    assert "1.72 times as likely" in text
    assert "interval includes" not in text and "interval excludes" not in text
    assert "The rate was" not in text
