"""Release artefacts: layout, content, determinism, atomicity and neutralisation."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import openpyxl
import pytest

from audit.keys import SigningKey, VerifierKey
from governance import release as release_module
from governance.errors import ConflictError, ReleaseError
from governance.release import (
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    ReleaseManifest,
    verify_release,
    write_release,
)
from governance.release_render import is_number_text, neutralise
from governance.sdc.check import check_table
from governance.sdc.clear import ClearedSet
from governance.sdc.evidence import evidence_mapping
from governance.sdc.policy import load_policy
from governance.sdc.structure import load_structure
from governance.sdc.tidy import read_tidy
from tests.release_support import (
    MOMENT,
    POLICY,
    cleared_set,
    release_info,
    signing_key,
)

TABLE = "staff_by_grade"
SITE_TABLE = "staff_by_site"
EXPECTED_FILES = {
    MANIFEST_NAME,
    SIGNATURE_NAME,
    PUBLIC_KEY_NAME,
    "release.xlsx",
    "release.json",
    "evidence.json",
    f"tables/{TABLE}.csv",
    f"tables/{TABLE}.structure.yaml",
    f"tables/{SITE_TABLE}.csv",
    f"tables/{SITE_TABLE}.structure.yaml",
}


def files_in(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def write(
    directory: Path,
    cleared: ClearedSet | None = None,
    key: SigningKey | None = None,
    **kwargs: object,
) -> ReleaseManifest:
    return write_release(
        directory,
        cleared=cleared or cleared_set(),
        info=kwargs.pop("info", release_info()),  # type: ignore[arg-type]
        policy=POLICY,
        signing_key=key or signing_key(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_release_has_the_documented_layout_and_verifies(tmp_path: Path) -> None:
    key = signing_key()
    out = tmp_path / "rel"
    written = write(out, key=key)
    assert set(files_in(out)) == EXPECTED_FILES
    listed = {a.path for a in written.artefacts}
    assert listed == EXPECTED_FILES - {MANIFEST_NAME, SIGNATURE_NAME}
    result = verify_release(out, [key.public_key])
    assert result.ok, result.problems
    assert result.release_id == "rel-2025-001"
    assert result.key == key.public_key
    assert result.manifest_sha256 == written.manifest_sha256
    assert result.artefacts == len(written.artefacts)
    assert not [p for p in tmp_path.iterdir() if p.name != "rel"]  # no staging left


def test_manifest_records_the_request_policy_head_and_every_artefact(
    tmp_path: Path,
) -> None:
    key = signing_key()
    cleared = cleared_set()
    out = tmp_path / "rel"
    write(out, cleared, key)
    raw = (out / MANIFEST_NAME).read_bytes()
    manifest = json.loads(raw)
    assert raw == (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode()
    assert manifest["format"] == "wresgov-release/1"
    assert manifest["request_id"] == "req-17"
    assert manifest["purpose"] == "Annual WRES report to the board"
    assert manifest["requester"] == "analyst-ann"
    assert manifest["approvals"] == [
        {"principal": "ig-bryn", "at": "2025-06-29T09:00:00.000000Z"},
        {"principal": "ig-carys", "at": "2025-06-29T10:00:00.000000Z"},
    ]
    assert manifest["policy"] == {
        "id": "wres-wales",
        "version": 1,
        "sha256": POLICY.sha256,
    }
    assert manifest["policy_files"] == {"release.yaml": "ab" * 32}
    assert manifest["audit_head"] == {"size": 42, "hash": bytes(range(32)).hex()}
    assert manifest["created"] == "2025-06-30T11:30:15.000000Z"
    assert manifest["cleared_digest"] == cleared.digest
    assert manifest["signing_key"] == {
        "name": "wresgov-release",
        "id": key.key_id.hex(),
        "verifier": key.public_key.to_text(),
    }
    files = files_in(out)
    for entry in manifest["artefacts"]:
        data = files[entry["path"]]
        assert entry["size"] == len(data)
        import hashlib

        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    sig = json.loads((out / SIGNATURE_NAME).read_bytes())
    import base64

    assert key.public_key.verify(raw, base64.b64decode(sig["signature"]))
    assert (out / PUBLIC_KEY_NAME).read_text() == key.public_key.to_text() + "\n"


def test_table_csv_is_the_engines_cleared_format_and_rechecks(
    tmp_path: Path,
) -> None:
    cleared = cleared_set()
    out = tmp_path / "rel"
    write(out, cleared)
    manifest = json.loads((out / MANIFEST_NAME).read_bytes())
    evidence = json.loads((out / "evidence.json").read_bytes())
    assert [t["name"] for t in manifest["tables"]] == [TABLE, SITE_TABLE]
    for table, entry, recorded in zip(
        cleared.tables, manifest["tables"], evidence["tables"], strict=True
    ):
        csv_path = out / "tables" / f"{table.name}.csv"
        assert csv_path.read_text(encoding="utf-8") == table.render_csv()
        assert entry["content_sha256"] == table.digest() == recorded["sha256"]
        assert entry["neutralised_cells"] == 0
        dims = load_structure(out / "tables" / f"{table.name}.structure.yaml")
        assert tuple(dims) == table.dimensions
        result = check_table(read_tidy(csv_path), POLICY, dims)
        assert result.safe, result.findings
        assert result.hidden == sum(c.status != "published" for c in table.cells)


def test_evidence_is_the_engines_and_json_holds_every_row(tmp_path: Path) -> None:
    cleared = cleared_set()
    out = tmp_path / "rel"
    write(out, cleared)
    assert json.loads((out / "evidence.json").read_bytes()) == json.loads(
        json.dumps(evidence_mapping(cleared))
    )
    data = json.loads((out / "release.json").read_bytes())
    assert data["policy"]["sha256"] == POLICY.sha256
    assert set(data["symbols"]) == {"<10", "[c]", "[z]"}
    assert "fewer than 10" in data["symbols"]["<10"]
    table, _ = data["tables"]
    assert table["csv"] == f"tables/{TABLE}.csv"
    assert len(table["rows"]) == len(cleared.table(TABLE).cells)
    by_codes = {(r["codes"]["dept"], r["codes"]["grade"]): r for r in table["rows"]}
    assert by_codes["Sales", "G2"] == {
        "codes": {"dept": "Sales", "grade": "G2"},
        "display": "<10",
        "status": "primary",
        "value": None,
        "extra": {"percent_grade": "[c]"},
    }
    published = [r for r in table["rows"] if r["status"] == "published"]
    assert published
    for row in published:
        assert row["value"] == int(row["display"])
    (likelihood,) = [d for d in data["derived"] if d["kind"] == "relative_likelihood"]
    assert likelihood["table"] is None
    assert likelihood["display"] == cleared.derived[-1].display
    assert likelihood["interval"] == cleared.derived[-1].interval_display


def test_workbook_has_notes_and_one_sheet_per_table(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    cleared = cleared_set()
    write(out, cleared)
    book = openpyxl.load_workbook(out / "release.xlsx")
    assert book.sheetnames == ["notes", TABLE, SITE_TABLE, "derived"]
    notes = {row[0]: row[1] for row in book["notes"].iter_rows(values_only=True)}
    assert notes["policy"] == "wres-wales version 1"
    assert notes["policy sha256"] == POLICY.sha256
    assert notes["request"] == "req-17"
    assert notes["purpose"] == "Annual WRES report to the board"
    assert notes["date"] == "2025-06-30T11:30:15.000000Z"
    assert "fewer than 10" in str(notes["symbol <10"])
    assert "another hidden cell" in str(notes["symbol [c]"])
    rows = list(book[TABLE].iter_rows(values_only=True))
    assert rows[0] == ("dept", "grade", "display", "status", "percent_grade")
    table = cleared.table(TABLE)
    for cell, row in zip(table.cells, rows[1:], strict=True):
        assert row[:2] == cell.codes
        if cell.status == "published":
            assert row[2] == int(cell.display)  # a number, not text
        else:
            assert row[2] == cell.display
        assert row[3] == cell.status
        if cell.extras[0] and cell.extras[0] != "[c]":
            assert row[4] == float(cell.extras[0])
    derived = list(book["derived"].iter_rows(values_only=True))
    assert derived[0] == ("name", "kind", "display", "interval", "status")
    rl = cleared.derived[-1]
    shown = float(rl.display) if is_number_text(rl.display) else rl.display
    assert derived[1:] == [(rl.name, rl.kind, shown, rl.interval_display, rl.status)]
    assert book.properties.created == MOMENT.replace(tzinfo=None)
    assert book.properties.modified == MOMENT.replace(tzinfo=None)


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    key = signing_key()
    cleared = cleared_set()
    extra = {"charts/staff.svg": b"<svg/>", "report.html": b"<html></html>"}
    write(tmp_path / "a", cleared, key, extra_files=extra)
    write(tmp_path / "b", cleared, key, extra_files=extra)
    first, second = files_in(tmp_path / "a"), files_in(tmp_path / "b")
    assert first == second
    assert first["charts/staff.svg"] == b"<svg/>"


def test_extra_files_are_written_listed_and_checked(tmp_path: Path) -> None:
    key = signing_key()
    out = tmp_path / "rel"
    write(out, key=key, extra_files={"charts/a/b.png": b"\x89PNG", "r.html": b"x"})
    assert (out / "charts" / "a" / "b.png").read_bytes() == b"\x89PNG"
    assert verify_release(out, [key.public_key]).ok


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/etc/passwd", "absolute"),
        ("../escape.html", "'..'"),
        ("charts/../../x", "'..'"),
        ("charts//x", "empty"),
        ("./x", "'.'"),
        ("", "empty"),
        ("charts\\x.png", "backslash"),
        ("c:x.png", "colon"),
        ("bad\nname", "control"),
        ("release.json", "clashes"),
        ("Release.JSON", "clashes"),
        ("tables/staff_by_grade.csv", "clashes"),
        ("tables", "directory"),
        ("manifest.sig", "clashes"),
        ("UNCOMMITTED", "clashes"),
    ],
)
def test_unsafe_extra_paths_are_refused_and_nothing_is_written(
    tmp_path: Path, path: str, problem: str
) -> None:
    out = tmp_path / "rel"
    with pytest.raises(ReleaseError, match=problem):
        write(out, extra_files={path: b"x"})
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_file_and_a_directory_of_the_same_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="also used as a directory"):
        write(tmp_path / "rel", extra_files={"c": b"1", "c/d.png": b"2"})


def test_an_existing_nonempty_target_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    out = tmp_path / "rel"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ConflictError, match="not empty"):
        write(out)
    assert files_in(out) == {"keep.txt": b"mine"}
    assert [p.name for p in tmp_path.iterdir()] == ["rel"]
    target_file = tmp_path / "file"
    target_file.write_text("x")
    with pytest.raises(ConflictError, match="not a directory"):
        write(target_file)


def test_an_existing_empty_directory_is_filled(tmp_path: Path) -> None:
    key = signing_key()
    out = tmp_path / "rel"
    out.mkdir()
    write(out, key=key)
    assert verify_release(out, [key.public_key]).ok


def test_a_failure_part_way_leaves_nothing_at_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = release_module._write_file

    def failing(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(release_module, "_write_file", failing)
    out = tmp_path / "rel"
    with pytest.raises(OSError, match="No space"):
        write(out)
    assert len(calls) == 4
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_failure_at_the_rename_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(OSError, match="Permission denied"):
        write(tmp_path / "rel")
    assert list(tmp_path.iterdir()) == []


def test_a_target_filled_while_writing_is_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rel"
    real = release_module._fsync_directory

    def racing(path: Path) -> None:
        real(path)
        if not out.exists():
            out.mkdir()
            (out / "theirs.txt").write_text("theirs")

    monkeypatch.setattr(release_module, "_fsync_directory", racing)
    with pytest.raises(ConflictError):
        write(out)
    assert files_in(out) == {"theirs.txt": b"theirs"}
    assert [p.name for p in tmp_path.iterdir()] == ["rel"]


def test_files_and_directories_are_readable_by_all(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    write(out)
    assert out.stat().st_mode & 0o777 == 0o755
    assert (out / "tables").stat().st_mode & 0o777 == 0o755
    assert (out / MANIFEST_NAME).stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"approvals": ()}, "at least one approval"),
        ({"requester": "ig-bryn"}, "requester cannot be an approver"),
        ({"purpose": "  "}, "'purpose' must be non-empty"),
        ({"release_id": "a\x00b"}, "'release_id' must be non-empty"),
        ({"created": MOMENT.replace(tzinfo=None)}, "timezone-aware"),
        ({"policy_files": {"release.yaml": "xyz"}}, "64 hex digits"),
    ],
)
def test_release_fields_are_checked(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ReleaseError, match=message):
        write(tmp_path / "rel", info=release_info(**changes))
    assert list(tmp_path.iterdir()) == []


def test_an_approver_listed_twice_is_refused(tmp_path: Path) -> None:
    twice = release_info().approvals[:1] * 2
    with pytest.raises(ReleaseError, match="twice"):
        write(tmp_path / "rel", info=release_info(approvals=twice))


def test_the_policy_must_be_the_one_the_set_was_cleared_under(
    tmp_path: Path,
) -> None:
    other = load_policy("wres-wales")
    other = type(other)(other.document, "0" * 64, other.source)
    with pytest.raises(ReleaseError, match="not the policy the tables were cleared"):
        write_release(
            tmp_path / "rel",
            cleared=cleared_set(),
            info=release_info(),
            policy=other,
            signing_key=signing_key(),
        )


def test_formula_text_is_neutralised_in_csv_and_xlsx_and_still_rechecks(
    tmp_path: Path,
) -> None:
    depts = ('=HYPERLINK("http://x","y")', "@SUM(A1)")
    grades = ("-G1", "+4", "\tTAB")
    cleared = cleared_set(depts, grades)
    key = signing_key()
    out = tmp_path / "rel"
    write(out, cleared, key)
    text = (out / "tables" / f"{TABLE}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    codes = {(r[0], r[1]) for r in rows[1:]}
    assert ('\'=HYPERLINK("http://x","y")', "'-G1") in codes
    assert ("'@SUM(A1)", "+4") in codes  # "+4" is a number, not a formula
    assert ("'@SUM(A1)", "'\tTAB") in codes
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "@", "-", "\t", "\r")) or (
                is_number_text(value)
            )
    manifest = json.loads((out / MANIFEST_NAME).read_bytes())
    # each dept code is on 4 rows (total and 3 grades), each grade code on 3
    assert manifest["tables"][0]["neutralised_cells"] == 2 * 4 + 2 * 3
    assert manifest["tables"][1]["neutralised_cells"] == 2 * 3
    dims = load_structure(out / "tables" / f"{TABLE}.structure.yaml")
    assert '\'=HYPERLINK("http://x","y")' in dims[0]
    for name in (TABLE, SITE_TABLE):
        csv_path = out / "tables" / f"{name}.csv"
        structure = load_structure(out / "tables" / f"{name}.structure.yaml")
        assert check_table(read_tidy(csv_path), POLICY, structure).safe
    book = openpyxl.load_workbook(out / "release.xlsx")
    sheet = book[TABLE]
    for sheet_row in sheet.iter_rows(min_row=2):
        for code in sheet_row[:2]:
            assert code.data_type == "s"
            assert isinstance(code.value, str)
            assert not code.value.startswith(("=", "@", "-", "\t"))
    assert verify_release(out, [key.public_key]).ok
    data = json.loads((out / "release.json").read_bytes())
    assert data["tables"][0]["rows"][5]["codes"]["dept"] == depts[0]  # JSON: exact


def test_codes_that_collide_once_neutralised_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="differ only by a formula"):
        write(tmp_path / "rel", cleared_set(depts=("=a", "'=a")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1+2", "'+1+2"),
        ("-A1", "'-A1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("+", "'+"),
        ("-1e5", "'-1e5"),
        ("-1.", "'-1."),
        ("-.5", "'-.5"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-0", "-0"),
        ("12", "12"),
        ("<10", "<10"),
        ("[c]", "[c]"),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("'=x", "'=x"),
        ("", ""),
        ("-\u0663", "'-\u0663"),  # Arabic-Indic digit: not a plain ASCII number
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_workbook_cells_numbers_stay_numbers_and_text_stays_text() -> None:
    from governance.release_render import _fill

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    header = ["-code", "a", "b", "c", "d"]
    _fill(sheet, [header, ["-1.50", "-1.50", "=A1", "-7", "40.0"]], 1)
    assert [c.value for c in sheet[1]] == ["'-code", "a", "b", "c", "d"]
    assert all(c.font.b for c in sheet[1])
    assert sheet["A2"].value == "-1.50"  # a code column: text, and a plain number
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -1.5
    assert sheet["B2"].number_format == "0.00"
    assert sheet["C2"].value == "'=A1"
    assert sheet["C2"].data_type == "s"
    assert sheet["D2"].value == -7
    assert sheet["E2"].value == 40.0
    assert sheet["E2"].number_format == "0.0"
    assert sheet.freeze_panes == "A2"


def test_a_control_character_xlsx_cannot_hold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="control character"):
        write(tmp_path / "rel", cleared_set(depts=("a\x01b", "Ops")))
    assert list(tmp_path.iterdir()) == []


def test_unsafe_table_names_are_refused(tmp_path: Path) -> None:
    for name in ("../t", "a/b", ".hidden", "x" * 101, "t\\u"):
        with pytest.raises(ReleaseError, match="released table name"):
            write(tmp_path / "rel", cleared_set(name=name))
    with pytest.raises(ReleaseError, match="differ only by case"):
        write(tmp_path / "rel", cleared_set(name="Staff_By_Site"))
    assert list(tmp_path.iterdir()) == []


def test_long_table_names_get_unique_sheet_names() -> None:
    from governance.release_render import sheet_names

    long = "a" * 40
    names = sheet_names([long, long + "b", "Notes", "x", "History"])
    assert names == {
        long: "a" * 31,
        long + "b": "a" * 29 + "~2",
        "Notes": "Notes~2",
        "x": "x",
        "History": "History~2",
    }


def test_the_public_key_in_the_directory_is_not_trusted(tmp_path: Path) -> None:
    out = tmp_path / "rel"
    write(out)
    in_directory = VerifierKey.from_text((out / PUBLIC_KEY_NAME).read_text())
    assert verify_release(out, [in_directory]).ok  # only when the caller trusts it
    result = verify_release(out, [])
    assert not result.ok
    assert [p.kind for p in result.problems] == ["untrusted_key"]


def test_release_directory_is_written_with_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write(tmp_path / "rel")
    # every file, the two directories, and the parent after the rename
    assert len(synced) == len(EXPECTED_FILES) + 2 + 1


def test_a_release_without_title_or_loose_derived_values(tmp_path: Path) -> None:
    key = signing_key()
    out = tmp_path / "rel"
    write(out, cleared_set(likelihood=False), key, info=release_info(title=""))
    book = openpyxl.load_workbook(out / "release.xlsx")
    assert book.sheetnames == ["notes", TABLE, SITE_TABLE]
    items = [row[0] for row in book["notes"].iter_rows(values_only=True)]
    assert "title" not in items
    assert json.loads((out / MANIFEST_NAME).read_bytes())["title"] == ""
    assert verify_release(out, [key.public_key]).ok


def test_extra_file_content_must_be_bytes(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="content must be bytes"):
        write(tmp_path / "rel", extra_files={"r.html": "text"})
    assert list(tmp_path.iterdir()) == []


def test_an_overlong_path_component_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="longer than 255 bytes"):
        write(tmp_path / "rel", extra_files={"charts/" + "\u0175" * 128: b"x"})


def test_evidence_listing_unsafe_cells_is_refused(tmp_path: Path) -> None:
    import copy
    import dataclasses

    from governance.errors import DisclosureError

    tampered = copy.copy(cleared_set())
    tampered.evidence = dataclasses.replace(
        tampered.evidence, unsafe=({"dept": "Sales", "grade": "G2"},)
    )
    with pytest.raises(DisclosureError, match="unsafe cells"):
        write(tmp_path / "rel", tampered)
    assert list(tmp_path.iterdir()) == []


def test_columns_that_collide_once_neutralised_are_refused(tmp_path: Path) -> None:
    from governance.sdc.clear import apply
    from governance.sdc.linked import LinkedSet
    from governance.sdc.table import Dimension, InputCell, Table

    first = Dimension("=x", "All", {"All": ["a", "b"]})
    second = Dimension("'=x", "All", {"All": ["c", "d"]})
    cells = [InputCell((f, s), 20.0) for f in ("a", "b") for s in ("c", "d")]
    cleared = apply(LinkedSet([Table.from_cells("t", [first, second], cells)]), POLICY)
    with pytest.raises(ReleaseError, match="two columns have the same name"):
        write(tmp_path / "rel", cleared)
    assert list(tmp_path.iterdir()) == []


def test_welsh_and_multiline_text_round_trips(tmp_path: Path) -> None:
    key = signing_key()
    purpose = "Adroddiad WRES i'r bwrdd — ŵ ŷ\nail linell\tgyda thab"
    out = tmp_path / "rel"
    write(out, key=key, info=release_info(purpose=purpose, title="Cymru gyfan"))
    raw = (out / MANIFEST_NAME).read_bytes()
    assert "ŵ ŷ".encode() in raw  # UTF-8, not \\u escapes
    assert json.loads(raw)["purpose"] == purpose
    book = openpyxl.load_workbook(out / "release.xlsx")
    notes = {row[0]: row[1] for row in book["notes"].iter_rows(values_only=True)}
    assert notes["purpose"] == purpose
    assert notes["title"] == "Cymru gyfan"
    assert verify_release(out, [key.public_key]).ok
