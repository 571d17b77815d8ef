"""The demo's national pack, re-checked independently from what it released.

``wresgov demo`` runs the whole cycle (init, synthetic extracts for 12 bodies, ingest,
a request for the national pack, checks, two approvals, a signed release). This test
then reads the release directory, not the engine's memory: the statuses of every
cell from ``tables/*.csv``, the derived values from ``release.json``. It recounts the
true values from the store with the catalogue's table specifications, states what an
intruder knows that joins the populations (people entering a process are among the
headcount, appointed applicants among the shortlisted, medical staff are staff group
01), and runs the exact attacker audit over all the tables at once: no cell may be
unsafe. Every percentage, rate and relative likelihood published must rest on
published counts only. The artefacts must open: the workbook with openpyxl, every
report as XML, every chart as SVG.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from governance.config import Settings
from governance.indicators import RelativeLikelihoodMethod, load_catalogue
from governance.reference import load_reference
from governance.release_verify import verify_release
from governance.request_specs import NATIONAL_TABLES
from governance.sdc.attack import audit
from governance.sdc.derived import Ratio, percentages_of
from governance.sdc.linked import Link, LinkedSet
from governance.sdc.pack import Component, Subset, pack_problem
from governance.sdc.policy import load_policy
from governance.sdc.table import InputCell, Table
from governance.service import Service
from synthetic.demo import DemoResult, run_demo
from tests.report_support import engine_dimensions

pytestmark = pytest.mark.slow

#: Large enough for every body to have tables the engine can protect.
STAFF = 15_000
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("pack") / "demo", staff=STAFF)


@pytest.fixture(scope="module")
def release(demo: DemoResult) -> Path:
    assert demo.release.directory is not None, demo.release.evidence
    return demo.release.directory


@pytest.fixture(scope="module")
def service(demo: DemoResult) -> Iterator[Service]:
    service = Service(Settings(home=demo.directory))
    yield service
    service.close()


def released_rows(release: Path, table: str) -> list[dict[str, str]]:
    with (release / "tables" / f"{table}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def parse(path: Path) -> ET.Element:
    return ET.fromstring(path.read_bytes())  # noqa: S314 - our own release's output


def true_tables(service: Service) -> dict[str, Table]:
    """Every table of the pack recounted from the store (the true values)."""
    catalogue = load_catalogue()
    out = {}
    with service.store.transaction() as tx:
        for name in NATIONAL_TABLES:
            spec = catalogue.table(name)
            counts = tx.aggregate(spec, period=2026)
            cells = [InputCell(codes, float(n)) for codes, n in counts.items()]
            out[name] = Table.from_cells(name, engine_dimensions(spec), cells)
    return out


def test_the_demo_releases_a_verified_national_pack(
    demo: DemoResult, release: Path, service: Service
) -> None:
    assert demo.release.release_verified and demo.release.audit_verified
    keys = [service.signing_key("release").public_key]
    assert verify_release(release, keys).ok
    manifest = json.loads((release / "manifest.json").read_text())
    assert sorted(t["name"] for t in manifest["tables"]) == sorted(NATIONAL_TABLES)
    evidence = json.loads((release / "evidence.json").read_text())
    assert evidence["format"] == "wresgov-pack-evidence/1"
    assert evidence["digest"] == manifest["cleared_digest"]
    assert evidence["whole_pack_audit"]["unsafe"] == []
    # every released table is byte for byte the engine's cleared table
    digests = {
        t["name"]: t["sha256"] for s in evidence["linked_sets"] for t in s["tables"]
    }
    for table in manifest["tables"]:
        assert table["content_sha256"] == digests[table["name"]]


def test_an_independent_attacker_audit_of_the_whole_pack_finds_nothing(
    release: Path, service: Service
) -> None:
    tables = true_tables(service)
    policy = load_policy("wres-wales")
    # what an intruder knows joins the populations: the test states it itself
    staff = [
        "staff_ethnicity",
        "staff_group_ethnicity",
        "staff_medical_ethnicity",
        "staff_band_ethnicity",
    ]
    populations = [staff, *([n] for n in NATIONAL_TABLES if n not in staff)]
    assert sorted(n for names in populations for n in names) == sorted(NATIONAL_TABLES)
    fixed = {
        "staff_medical_ethnicity": {"staff_group": "01"},
        "staff_band_ethnicity": {"pay_scale": "AfC"},
    }
    # staff on AfC pay are everyone in a flagged staff group but medical and
    # dental: each body's clinical (non-clinical) band rows add up from those groups
    flags = {g.code: g.clinical for g in load_reference().staff_groups}
    groups = {
        "clinical": [g for g, f in flags.items() if f is True and g != "01"],
        "non-clinical": [g for g, f in flags.items() if f is False],
    }
    body = engine_dimensions(load_catalogue().table("staff_band_ethnicity"))[0]
    links = [
        Link(
            tuple(sorted({"body": b, "clinical": c, "wres_group": w, **fixed[
                "staff_band_ethnicity"]}.items())),
            tuple(
                tuple(sorted({"body": b, "staff_group": g, "ethnic_broad": w}.items()))
                for g in groups[c]
            ),
        )
        for b in body.leaves
        for c in groups
        for w in ("White", "Ethnic minority", "Not stated")
    ]  # fmt: skip
    subsets = [
        Subset("recruitment_appointed", "recruitment_shortlisted"),
        Subset("disciplinary_entered", "staff_ethnicity"),
        Subset("capability_entered", "staff_ethnicity"),
        Subset("training_accessed", "staff_ethnicity"),
    ]
    catalogue = load_catalogue()
    components, masks = [], []
    for names in populations:
        linked = LinkedSet(
            [tables[n] for n in names],
            fixed={n: fixed[n] for n in names if n in fixed},
            links=links if names is staff else (),
        )
        ratios = []
        for pc in catalogue.percentages:
            if pc.table in names:
                pins = linked.fixed[pc.table]
                ratios += [
                    Ratio(
                        r.name,
                        tuple(sorted(r.numerator + pins)),
                        tuple(sorted(r.denominator + pins)),
                    )
                    for r in percentages_of(linked.table(pc.table), pc.along)
                ]
        mask = np.zeros(linked.size, dtype=bool)
        for name in names:
            table = linked.table(name)
            rows = released_rows(release, name)
            assert len(rows) == table.size
            where = linked.positions[name]
            for row in rows:
                codes = tuple(row[d.name] for d in table.dimensions)
                if row["status"] != "published":
                    mask[where[table.position(codes)]] = True
                else:
                    # a published count is the true count
                    assert float(row["display"]) == table.counts[table.position(codes)]
        components.append(Component(linked, tuple(ratios)))
        masks.append(mask)
    problem, hidden, facts = pack_problem(components, policy, masks, subsets)
    assert facts > 0 and problem.size == sum(c.linked.size for c in components)
    result = audit(problem, hidden)
    assert result.feasible
    assert result.unsafe == ()
    assert int(hidden.sum()) > int(problem.primary.sum()) > 0  # complements exist


def test_no_percentage_rate_or_likelihood_rests_on_a_hidden_count(
    release: Path,
) -> None:
    catalogue = load_catalogue()
    status: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    percents: list[tuple[str, str, dict[str, str]]] = []
    for name in NATIONAL_TABLES:
        dims = engine_dimensions(catalogue.table(name))
        for row in released_rows(release, name):
            status[name, tuple((d.name, row[d.name]) for d in dims)] = row["status"]
            percents += [(name, c, row) for c in row if c.startswith("percent_")]
    checked = 0
    for name, column, row in percents:
        if not row[column][:1].isdigit():
            continue  # hidden ([c]), not computable ([z]) or a total's empty cell
        # a published percentage: its cell and the parent cell are both published
        dims = engine_dimensions(catalogue.table(name))
        along = column[len("percent_") :]
        codes = [
            (
                d.name,
                (d.parent(row[d.name]) or d.total) if d.name == along else row[d.name],
            )
            for d in dims
        ]
        assert row["status"] == "published", (name, row)
        assert status[name, tuple(codes)] == "published", (name, row)
        checked += 1
    assert checked > 0
    data = json.loads((release / "release.json").read_text())
    published = [d for d in data["derived"] if d["status"] == "published"]
    assert any("/rl/" in d["name"] for d in published)
    for value in published:
        parts = value["name"].split("/")
        if parts[1:2] not in (["rate"], ["rl"]):
            continue
        method = catalogue.indicator(parts[0]).method
        assert isinstance(method, RelativeLikelihoodMethod)
        body = parts[-1]
        groups = [parts[2]] if parts[1] == "rate" else [method.group_a, method.group_b]
        eth = catalogue.table(method.events).dimensions[1]
        for table in (method.events, method.population):
            for group in groups:
                key = (("body", body), (eth, group))
                assert status[table, key] == "published", (value["name"], table, group)


def test_the_pack_opens_workbook_reports_and_charts(release: Path) -> None:
    book = openpyxl.load_workbook(release / "release.xlsx", read_only=True)
    assert book.sheetnames[0] == "notes"
    notes = {row[0]: row[1] for row in book["notes"].iter_rows(values_only=True)}
    assert notes["policy"] == "wres-wales version 1" and notes["date"]
    assert {"symbol <10", "symbol [c]", "symbol [z]"} <= set(notes)
    catalogue = load_catalogue()
    indicators = [
        i.id for i in catalogue.indicators if set(i.table_names) <= set(NATIONAL_TABLES)
    ]
    # notes, one sheet per indicator, one per table, the derived values
    assert book.sheetnames[1 : 1 + len(indicators)] == indicators
    assert set(NATIONAL_TABLES) <= set(book.sheetnames)
    assert {f"sheet {i}" for i in indicators} <= set(notes)
    rows = list(book["disciplinary"].iter_rows(values_only=True))
    title = rows[0][0]
    assert isinstance(title, str)
    assert title.endswith("All Wales and the bodies in it")
    assert rows[1][:2] == ("Scope", "Body") and rows[2][0] == "All Wales"
    book.close()
    scopes = sorted(p.name for p in (release / "reports").iterdir())
    body = engine_dimensions(catalogue.table("staff_ethnicity"))[0]
    assert scopes == sorted(body.codes)  # all Wales, each type of body, each body
    gaps = 0
    for scope in scopes:
        html = parse(release / "reports" / scope / "report.html")
        assert html.tag == f"{XHTML}html"
        sections = {s.get("id") for s in html.iter(f"{XHTML}section")}
        assert set(indicators) <= sections
        for indicator in indicators:
            svg = parse(release / "reports" / scope / f"chart-{indicator}.svg")
            assert svg.tag == f"{SVG}svg"
            for text in svg.iter(f"{SVG}text"):
                if text.get("class") == "gap":
                    gaps += 1
                    assert (text.text or "") in {"<10", "[c]", "[z]"}
    assert gaps > 0  # hidden values are drawn, as gaps with their symbol
