"""Synthetic ESR extracts: determinism, layout, realism against the reference, faults.

Tolerances (the generator's assumptions are in governance/data/reference.yaml):

- body shares of headcount: within 1.5 percentage points of the reference weights;
- not-stated share of staff: 0.07 +/- 0.015;
- ethnic minority share of declared, Medical and Dental: 0.35 +/- 0.04; all staff:
  0.10 +/- 0.03;
- relative likelihoods on a 20,000-staff Wales: appointment from shortlisting
  (White / minority) 1.3-1.7; entering a disciplinary process (minority / White)
  1.0-1.45; capability 0.85-1.4; accessing training (White / minority) 1.05-1.25;
- dirty mode: the share of rows hit within 0.05 +/- 0.015 of the requested 0.05.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from governance.extract_format import COLUMNS, KINDS, Kind, headers
from governance.reference import Reference, load_reference
from synthetic import (
    FAULT_TYPES,
    FAULTS_BY_KIND,
    FAULTS_FILE,
    SynthSummary,
    generate,
    write_staff_extract,
)
from synthetic.faults import BAD_BANDS, BAD_ETHNIC, BAD_STAFF_GROUPS

PERIOD = 2026
SNAPSHOT = date(PERIOD, 3, 31)
YEAR_START = date(PERIOD - 1, 4, 1)
DATE_TEXT = re.compile(r"\d\d/\d\d/\d{4}")
NI_NUMBER = re.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def _parse(text: str) -> date:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


def _age(birth: date, on: date = SNAPSHOT) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def read_rows(path: Path, kind: Kind) -> list[dict[str, str]]:
    """Rows keyed by internal column name; checks the header on the way."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == headers(kind)
        names = [column.name for column in COLUMNS[kind]]
        return [dict(zip(names, row, strict=True)) for row in reader]


@dataclass
class Extract:
    """A generated all-Wales extract, read back."""

    summary: SynthSummary
    rows: dict[tuple[str, Kind], list[dict[str, str]]] = field(default_factory=dict)

    def all(self, kind: Kind) -> list[dict[str, str]]:
        return [row for (_, k), rows in self.rows.items() if k == kind for row in rows]


def _read_extract(summary: SynthSummary) -> Extract:
    extract = Extract(summary)
    for file in summary.files:
        extract.rows[(file.body, file.kind)] = read_rows(file.path, file.kind)
    return extract


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


@pytest.fixture(scope="module")
def wales(tmp_path_factory: pytest.TempPathFactory) -> Extract:
    """A 20,000-staff Wales: the one larger run in this module."""
    out = tmp_path_factory.mktemp("wales")
    return _read_extract(generate(out, staff=20_000, seed=7))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- determinism and layout --------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", staff=800, seed=11, dirty=0.03)
    generate(tmp_path / "b", staff=800, seed=11, dirty=0.03)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(first) == 12 * (len(KINDS) + 1)  # five extracts and faults.json
    assert first == second


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", staff=800, seed=1)
    generate(tmp_path / "b", staff=800, seed=2)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    # Small bodies may have no cases at 800 staff (header-only files are equal).
    for name in first:
        if name.endswith(("staff.csv", "recruitment.csv", "board.csv")):
            assert first[name] != second[name], name


def test_layout_and_headers(wales: Extract, ref: Reference) -> None:
    summary = wales.summary
    root = summary.out_dir / str(PERIOD)
    assert sorted(p.name for p in root.iterdir()) == sorted(b.code for b in ref.bodies)
    for body in ref.bodies:
        names = sorted(p.name for p in (root / body.code).iterdir())
        assert names == sorted(f"{kind}.csv" for kind in KINDS)  # no faults.json
        for kind in KINDS:
            raw = (root / body.code / f"{kind}.csv").read_bytes()
            assert raw.startswith(",".join(headers(kind)).encode() + b"\r\n")
            assert not raw.startswith(b"\xef\xbb\xbf")
            assert summary.rows(body.code, kind) == len(wales.rows[(body.code, kind)])
    assert summary.faults() == ()


# --- realism against the reference -------------------------------------------------


def _people(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """First (primary) assignment row per employee number."""
    people: dict[str, dict[str, str]] = {}
    for row in rows:
        people.setdefault(row["employee_number"], row)
    return people


def test_body_sizes_match_reference_weights(wales: Extract, ref: Reference) -> None:
    total = 0
    for body in ref.bodies:
        headcount = len(_people(wales.rows[(body.code, "staff")]))
        assert headcount == wales.summary.headcount[body.code]
        total += headcount
    assert total == 20_000
    for body in ref.bodies:
        share = wales.summary.headcount[body.code] / total
        assert share == pytest.approx(body.synthetic_weight, abs=0.015), body.code


def test_ethnic_mix_matches_reference(wales: Extract, ref: Reference) -> None:
    people = list(_people(wales.all("staff")).values())
    groups = Counter(
        ref.ethnic(row["ethnic_origin"].split()[0]).wres_group for row in people
    )
    total = sum(groups.values())
    assert groups["Not stated"] / total == pytest.approx(0.07, abs=0.015)
    declared = groups["White"] + groups["Ethnic minority"]
    assert groups["Ethnic minority"] / declared == pytest.approx(0.10, abs=0.03)
    medical = Counter(
        ref.ethnic(row["ethnic_origin"].split()[0]).wres_group
        for row in people
        if row["staff_group"] == "Medical and Dental"
    )
    medical_declared = medical["White"] + medical["Ethnic minority"]
    assert medical["Ethnic minority"] / medical_declared == pytest.approx(
        0.35, abs=0.04
    )
    codes = Counter(row["ethnic_origin"].split()[0] for row in people)
    assert codes["CC"] > 0  # Welsh staff record the extended code
    assert {"A", "H", "N", "Z", "99"} <= codes.keys()


def test_values_are_esr_like(wales: Extract, ref: Reference) -> None:
    displays = {c.esr_display for c in ref.ethnic_categories}
    labels = {g.esr_label for g in ref.staff_groups}
    afc = {f"Band {b}" for b in ref.afc_bands} | {"VSM"}
    grades = {g.name for g in ref.medical_grades}
    staff = wales.all("staff")
    for row in staff:
        assert row["ethnic_origin"] in displays
        assert row["staff_group"] in labels
        band = row["pay_band"]
        medical = row["staff_group"] == "Medical and Dental"
        assert band in (grades if medical else afc)
        assert re.fullmatch(r"[01]\.\d\d", row["fte"])
        assert 0 < float(row["fte"]) <= 1
        assert NI_NUMBER.fullmatch(row["ni_number"])
        assert row["ni_number"][:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
        assert DATE_TEXT.fullmatch(row["date_of_birth"])
        birth, start = _parse(row["date_of_birth"]), _parse(row["start_date"])
        assert 18 <= _age(birth) <= 68
        assert _age(birth, start) >= 16
        assert start <= SNAPSHOT
        assert row["sex"] in {"Male", "Female"}
        assert all(row[c.name] for c in COLUMNS["staff"] if c.mandatory)
    assert {row["pay_band"] for row in staff} >= {
        "Band 5",
        "Band 8a",
        "VSM",
        "Consultant",
    }
    people = _people(staff)
    assert len(staff) > len(people)  # some people hold two assignments
    assignments = Counter(row["assignment_number"] for row in staff)
    assert max(assignments.values()) == 1
    assert all(a.endswith("-2") for a in assignments if a not in people)
    assert len({row["ni_number"] for row in people.values()}) == len(people)


def test_activity_links_to_staff_and_falls_in_year(
    wales: Extract, ref: Reference
) -> None:
    dated: tuple[tuple[Kind, str], ...] = (
        ("er-cases", "start_date"),
        ("training", "date"),
    )
    for body in ref.bodies:
        employees = {row["employee_number"] for row in wales.rows[(body.code, "staff")]}
        for kind, date_field in dated:
            for row in wales.rows[(body.code, kind)]:
                assert row["employee_number"] in employees
                assert row["organisation_code"] == body.code
                assert YEAR_START <= _parse(row[date_field]) <= SNAPSHOT
        training = Counter(
            (r["employee_number"], r["course"])
            for r in wales.rows[(body.code, "training")]
        )
        assert max(training.values(), default=1) == 1  # no one repeats a course
        applicants = [r["applicant_id"] for r in wales.rows[(body.code, "recruitment")]]
        assert len(set(applicants)) == len(applicants)
    everyone = [row["employee_number"] for row in _people(wales.all("staff")).values()]
    assert len(set(everyone)) == len(everyone)  # unique across Wales


def _rate(events: int, population: int) -> float:
    assert population > 0
    return events / population


def test_relative_likelihoods_are_realistic(wales: Extract, ref: Reference) -> None:
    def group(text: str) -> str:
        return ref.ethnic(text.split()[0]).wres_group

    shortlisted: Counter[str] = Counter()
    appointed: Counter[str] = Counter()
    for row in wales.all("recruitment"):
        assert not (row["appointed"] == "Y" and row["shortlisted"] == "N")
        if row["shortlisted"] == "Y":
            shortlisted[group(row["ethnic_origin"])] += 1
            appointed[group(row["ethnic_origin"])] += row["appointed"] == "Y"
    appointment_rl = _rate(appointed["White"], shortlisted["White"]) / _rate(
        appointed["Ethnic minority"], shortlisted["Ethnic minority"]
    )
    assert 1.3 <= appointment_rl <= 1.7

    people = _people(wales.all("staff"))
    headcount = Counter(group(row["ethnic_origin"]) for row in people.values())
    entered: dict[str, Counter[str]] = defaultdict(Counter)
    for row in wales.all("er-cases"):
        person = people[row["employee_number"]]
        entered[row["case_type"]][group(person["ethnic_origin"])] += 1

    def minority_rl(counts: Counter[str]) -> float:
        return _rate(counts["Ethnic minority"], headcount["Ethnic minority"]) / _rate(
            counts["White"], headcount["White"]
        )

    assert 1.0 <= minority_rl(entered["Disciplinary"]) <= 1.45
    assert 0.85 <= minority_rl(entered["Capability"]) <= 1.4
    trained = Counter(
        group(people[e]["ethnic_origin"])
        for e in {row["employee_number"] for row in wales.all("training")}
    )
    training_rl = 1 / minority_rl(trained)
    assert 1.05 <= training_rl <= 1.25


def test_boards(wales: Extract, ref: Reference) -> None:
    members = 0
    minority = 0
    for body in ref.bodies:
        board = wales.rows[(body.code, "board")]
        assert 10 <= len(board) <= 16
        assert {r["voting"] for r in board} <= {"Y", "N"}
        assert any(r["executive"] == "Y" for r in board)
        assert any(r["executive"] == "N" for r in board)
        members += len(board)
        minority += sum(
            ref.ethnic(r["ethnic_origin"].split()[0]).wres_group == "Ethnic minority"
            for r in board
        )
    assert minority / members < 0.2


# --- dirty mode --------------------------------------------------------------------


def _check_fault(
    ref: Reference,
    kind: Kind,
    fault: str,
    field: str,
    rows: list[dict[str, str]],
    at: int,
) -> None:
    row = rows[at - 1]
    value = row[field]
    if fault == "unknown_ethnic_code":
        assert value in BAD_ETHNIC
        assert ref.parse_ethnic_origin(value) is None
    elif fault == "unknown_staff_group":
        assert value in BAD_STAFF_GROUPS
        assert ref.parse_staff_group(value) is None
    elif fault == "unknown_pay_band":
        assert value in BAD_BANDS
        assert ref.parse_pay_band(value) is None
    elif fault == "blank_mandatory":
        assert value == ""
        assert next(c for c in COLUMNS[kind] if c.name == field).mandatory
    elif fault == "impossible_date":
        with pytest.raises(ValueError, match="day is out of range"):
            _parse(value)
    elif fault == "future_start_date":
        assert _parse(value) > SNAPSHOT
    elif fault == "age_under_16":
        assert _age(_parse(value)) < 16
    elif fault == "age_over_100":
        assert _age(_parse(value)) > 100
    elif fault == "non_positive_fte":
        assert float(value) <= 0
    elif fault == "duplicate_row":
        assert row == rows[at - 2]
    elif fault == "wrong_organisation":
        assert value != rows[0]["organisation_code"] or at == 1
        ref.body(value)
    elif fault == "date_out_of_period":
        assert not YEAR_START <= _parse(value) <= SNAPSHOT
    elif fault == "invalid_flag":
        assert value not in {"Y", "N"}
    elif fault == "appointed_not_shortlisted":
        assert (row["shortlisted"], row["appointed"]) == ("N", "Y")
    else:  # pragma: no cover - a new fault type needs a check here
        pytest.fail(f"unchecked fault type {fault}")


def test_dirty_mode_records_every_fault(tmp_path: Path, ref: Reference) -> None:
    summary = generate(tmp_path / "dirty", staff=3_000, seed=5, dirty=0.05)
    clean = generate(tmp_path / "clean", staff=3_000, seed=5)
    seen: Counter[str] = Counter()
    for body in ref.bodies:
        body_dir = tmp_path / "dirty" / str(PERIOD) / body.code
        document = json.loads((body_dir / FAULTS_FILE).read_text(encoding="utf-8"))
        assert document["body"] == body.code
        assert document["row_numbering"].startswith("1-based data row")
        recorded = [
            (f["kind"], f["row"], f["field"], f["fault"]) for f in document["faults"]
        ]
        assert recorded == [
            (f.kind, f.row, f.field, f.fault) for f in summary.faults(body.code)
        ]
        by_kind: dict[str, set[int]] = defaultdict(set)
        for kind, row, column, fault in recorded:
            assert fault in FAULTS_BY_KIND[kind]
            rows = read_rows(body_dir / f"{kind}.csv", kind)
            _check_fault(ref, kind, fault, column, rows, row)
            by_kind[kind].add(row)
            seen[fault] += 1
        for kind in KINDS:
            # Unfaulted rows are exactly the clean extract's rows, in order.
            dirty_rows = read_rows(body_dir / f"{kind}.csv", kind)
            kept = [r for n, r in enumerate(dirty_rows, 1) if n not in by_kind[kind]]
            faulted_originals = len(by_kind[kind]) - sum(
                1 for k, _, _, f in recorded if k == kind and f == "duplicate_row"
            )
            clean_rows = read_rows(
                clean.out_dir / str(PERIOD) / body.code / f"{kind}.csv", kind
            )
            assert len(kept) == len(clean_rows) - faulted_originals
            assert all(r in clean_rows for r in kept[:50])
    hit = sum(seen.values()) / summary.rows()
    assert hit == pytest.approx(0.05, abs=0.015)
    assert set(seen) == set(FAULT_TYPES)  # every fault type occurs at this size


# --- the large-file writer and the command -----------------------------------------


def test_write_staff_extract_is_exact_and_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_staff_extract(first, rows=1_234, org="7A3", seed=4)
    write_staff_extract(second, rows=1_234, org="7a3", seed=4)
    assert first.read_bytes() == second.read_bytes()
    rows = read_rows(first, "staff")
    assert len(rows) == 1_234
    assert {row["organisation_code"] for row in rows} == {"7A3"}
    assert len({row["assignment_number"] for row in rows}) == 1_234


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"staff": -1}, "staff must not be negative"),
        ({"period": 1800}, "period must be a year"),
        ({"dirty": 1.5}, "dirty must be a rate"),
    ],
)
def test_generate_refuses_bad_arguments(
    tmp_path: Path, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **kwargs)  # type: ignore[arg-type]  # float for int on purpose


def test_write_staff_extract_refuses_unknown_body(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an NHS Wales body code"):
        write_staff_extract(tmp_path / "x.csv", rows=10, org="ZZZ")
