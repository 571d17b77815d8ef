"""The table model: dimensions, tables, linked sets, structure files, tidy input."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from governance.errors import TableError
from governance.sdc.linked import LinkedSet, codes_of, describe_key
from governance.sdc.structure import (
    infer_structure,
    load_structure,
    parse_structure,
    render_structure,
)
from governance.sdc.table import Dimension, InputCell, Table
from governance.sdc.tidy import input_cells, load_table, read_tidy

BODY = Dimension(
    "body",
    "Wales",
    {"Wales": ["LHB", "Trust"], "LHB": ["7A1", "7A2", "7A3"], "Trust": ["RQF", "RT4"]},
)
ETHNIC = Dimension("ethnic_group", "All", {"All": ["White", "Minority", "Not stated"]})
BAND = Dimension("band", "All", {"All": ["5", "6", "7"]})


def leaf_cells(dims: list[Dimension], seed: int = 0) -> dict[tuple[str, ...], int]:
    rng = np.random.default_rng(seed)
    leaves = [d.leaves for d in dims]
    return {codes: int(rng.poisson(12)) for codes in itertools.product(*leaves)}


def table_of(
    name: str, dims: list[Dimension], cells: dict[tuple[str, ...], int]
) -> Table:
    return Table.from_cells(
        name, dims, [InputCell(k, float(v)) for k, v in cells.items()]
    )


# --- Dimension -------------------------------------------------------------------


def test_dimension_orders_codes_depth_first() -> None:
    assert BODY.codes == ("Wales", "LHB", "7A1", "7A2", "7A3", "Trust", "RQF", "RT4")
    assert BODY.leaves == ("7A1", "7A2", "7A3", "RQF", "RT4")
    assert BODY.parent("7A2") == "LHB"
    assert BODY.parent("Wales") is None
    assert BODY.parents_bottom_up() == ("Trust", "LHB", "Wales")
    assert BODY.hierarchy["LHB"] == ("7A1", "7A2", "7A3")


@pytest.mark.parametrize(
    ("total", "hierarchy", "problem"),
    [
        ("All", {"All": ["A", "B"], "X": ["A"]}, "two parents"),
        ("All", {"All": ["A", "B"], "C": ["D"]}, "not under the total"),
        ("All", {"All": ["A"], "A": ["All"]}, "is a child of"),
        ("Total", {"All": ["A"]}, "has no children"),
        ("All", {"All": []}, "needs a list of children"),
        ("All", {"All": ["A", "A"]}, "two parents"),
        ("All", {"All": ["A"], "B": ["C"], "C": ["B"]}, "not under the total"),
        ("", {"All": ["A"]}, "total code is empty"),
        ("All", {"All": ["A", ""]}, "is empty"),
    ],
)
def test_dimension_refuses_what_is_not_a_tree(
    total: str, hierarchy: dict[str, list[str]], problem: str
) -> None:
    with pytest.raises(TableError, match=problem):
        Dimension("d", total, hierarchy)


def test_dimension_unknown_code_is_named() -> None:
    with pytest.raises(TableError, match="has no code 'Z'"):
        ETHNIC.index("Z")


# --- Table -----------------------------------------------------------------------


def test_leaf_input_computes_every_total() -> None:
    cells = leaf_cells([BODY, ETHNIC])
    table = table_of("t", [BODY, ETHNIC], cells)
    assert table.shape == (8, 4)
    for body, eth in itertools.product(BODY.codes, ETHNIC.codes):
        leaves_b = [body] if BODY.is_leaf(body) else _leaves_under(BODY, body)
        leaves_e = [eth] if ETHNIC.is_leaf(eth) else list(ETHNIC.leaves)
        expected = sum(cells[(b, e)] for b in leaves_b for e in leaves_e)
        assert table.counts[table.position((body, eth))] == expected


def _leaves_under(dim: Dimension, code: str) -> list[str]:
    out: list[str] = []
    for kid in dim.children(code):
        out.extend([kid] if dim.is_leaf(kid) else _leaves_under(dim, kid))
    return out


def test_absent_leaf_cells_are_zero() -> None:
    table = Table.from_cells("t", [ETHNIC], [InputCell(("White",), 30.0)])
    assert table.counts.tolist() == [30.0, 30.0, 0.0, 0.0]


def test_all_cells_input_is_checked_and_accepted_when_additive() -> None:
    leaf = table_of("t", [BODY, ETHNIC], leaf_cells([BODY, ETHNIC]))
    cells = [
        InputCell(codes, float(leaf.counts[leaf.position(codes)]), row=i + 2)
        for i, codes in enumerate(leaf.cells())
    ]
    again = Table.from_cells("t", [BODY, ETHNIC], cells)
    assert np.array_equal(again.counts, leaf.counts)


def test_inconsistent_total_names_the_cell_never_the_count() -> None:
    leaf = table_of("t", [BODY, ETHNIC], leaf_cells([BODY, ETHNIC]))
    cells = []
    for i, codes in enumerate(leaf.cells()):
        value = float(leaf.counts[leaf.position(codes)])
        if codes == ("LHB", "Minority"):
            value += 7
        cells.append(InputCell(codes, value, row=i + 2))
    with pytest.raises(TableError) as caught:
        Table.from_cells("t", [BODY, ETHNIC], cells)
    message = str(caught.value)
    assert "cell (body=LHB, ethnic_group=Minority)" in message
    assert "does not equal the sum of its parts" in message
    assert str(int(leaf.counts[leaf.position(("LHB", "Minority"))])) not in message


def test_every_wrong_total_is_counted() -> None:
    cells = [
        InputCell(("White",), 30.0),
        InputCell(("Minority",), 5.0),
        InputCell(("All",), 99.0, row=4),
    ]
    with pytest.raises(TableError, match=r"row 4: cell \(ethnic_group=All\)"):
        Table.from_cells("t", [ETHNIC], cells)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (InputCell(("Purple",), 3.0, row=2), "code 'Purple' is not in dimension"),
        (InputCell(("White",), -1.0, row=2), "'count' must be a whole number"),
        (InputCell(("White",), 2.5, row=2), "'count' must be a whole number"),
        (InputCell(("White",), float("nan"), row=2), "'count' must be a whole number"),
        (InputCell(("White", "5"), 3.0, row=2), "one code per dimension"),
    ],
)
def test_bad_input_cells_are_refused_by_row(cell: InputCell, problem: str) -> None:
    with pytest.raises(TableError, match=problem) as caught:
        Table.from_cells("t", [ETHNIC], [cell])
    assert "row 2" in str(caught.value)


def test_repeated_cell_is_refused() -> None:
    cells = [InputCell(("White",), 3.0, row=2), InputCell(("White",), 3.0, row=3)]
    with pytest.raises(TableError, match=r"row 3: cell .* appears more than once"):
        Table.from_cells("t", [ETHNIC], cells)


def test_magnitude_table_aggregates_values_and_top_contributions() -> None:
    cells = [
        InputCell(("White",), 3, 2.5, (1.0, 0.9)),
        InputCell(("Minority",), 2, 1.2, (0.8, 0.4)),
        InputCell(("Not stated",), 1, 0.5, (0.5,)),
    ]
    table = Table.from_cells("fte", [ETHNIC], cells, measure="fte")
    assert table.kind == "magnitude"
    assert table.magnitudes is not None
    assert table.top is not None
    assert table.magnitudes[0] == pytest.approx(4.2)
    assert table.counts[0] == 6
    assert table.top[0].tolist() == [1.0, 0.9]
    assert table.top[3].tolist() == [0.5, 0.0]
    assert table.decimals == 2


@pytest.mark.parametrize(
    "top",
    [(0.4, 0.9), (3.0,), (-0.1,), (1.0, 1.0, 0.5)],
)
def test_inconsistent_top_contributions_are_refused(top: tuple[float, ...]) -> None:
    cells = [InputCell(("White",), 2, 2.5, top, row=2)]
    with pytest.raises(TableError, match="top contributions"):
        Table.from_cells("fte", [ETHNIC], cells, measure="fte")


def test_magnitude_total_with_contributions_is_checked() -> None:
    cells = [
        InputCell(("White",), 2, 2.0, (1.0, 1.0)),
        InputCell(("Minority",), 1, 0.5, (0.5,)),
        InputCell(("All",), 3, 2.5, (1.0, 0.5), row=4),
    ]
    with pytest.raises(TableError, match="row 4"):
        Table.from_cells("fte", [ETHNIC], cells, measure="fte")


# --- LinkedSet -------------------------------------------------------------------


def test_linked_tables_share_their_common_margin() -> None:
    people = leaf_cells([BODY, ETHNIC, BAND], seed=3)
    by_ethnic = table_of(
        "by_ethnic",
        [BODY, ETHNIC],
        {
            (b, e): sum(people[(b, e, s)] for s in BAND.leaves)
            for b, e in itertools.product(BODY.leaves, ETHNIC.leaves)
        },
    )
    by_band = table_of(
        "by_band",
        [BAND, BODY],
        {
            (s, b): sum(people[(b, e, s)] for e in ETHNIC.leaves)
            for s, b in itertools.product(BAND.leaves, BODY.leaves)
        },
    )
    linked = LinkedSet([by_ethnic, by_band])
    shared = len(BODY.codes)  # the body margin appears in both tables
    assert linked.size == by_ethnic.size + by_band.size - shared
    a = linked.positions["by_ethnic"][BODY.index("7A2"), ETHNIC.index("All")]
    b = linked.positions["by_band"][BAND.index("All"), BODY.index("7A2")]
    assert a == b == linked.index_of({"body": "7A2"})
    assert linked.index_of({"body": "7A2", "band": "All"}) == a
    assert linked.describe(int(a)) == "(body=7A2)"
    # every relation holds for the stored values, within and across tables
    for relation in linked.relations():
        total = linked.counts[relation.total]
        assert total == sum(linked.counts[c] for c in relation.children)


def test_relations_cover_every_level_once() -> None:
    table = table_of("t", [BODY, ETHNIC], leaf_cells([BODY, ETHNIC]))
    relations = LinkedSet([table]).relations()
    # body: 3 parents x 4 ethnic codes; ethnic: 1 parent x 8 body codes
    assert len(relations) == 3 * 4 + 8
    assert len({(r.total, r.children) for r in relations}) == len(relations)


def test_cell_order_is_deterministic() -> None:
    cells = leaf_cells([BODY, ETHNIC])
    one = LinkedSet([table_of("t", [BODY, ETHNIC], cells)])
    two = LinkedSet(
        [table_of("t", [BODY, ETHNIC], dict(reversed(list(cells.items()))))]
    )
    assert one.keys == two.keys
    assert one.relations() == two.relations()
    assert one.keys[0] == ()
    assert describe_key(one.keys[0]) == "(total)"
    assert codes_of(one.keys[4], [BODY, ETHNIC]) == ("LHB", "All")


def test_shared_cell_with_different_values_is_refused() -> None:
    a = table_of("a", [ETHNIC], {("White",): 30, ("Minority",): 12, ("Not stated",): 4})
    b = table_of("b", [ETHNIC, BAND], {("White", "5"): 31})
    with pytest.raises(TableError, match=r"table 'b': cell \(total\) differs"):
        LinkedSet([a, b])


@pytest.mark.parametrize(
    ("tables", "problem"),
    [
        ([], "at least one table"),
        (["same", "same"], "two tables are called 'same'"),
    ],
)
def test_linked_set_refuses_bad_sets(tables: list[str], problem: str) -> None:
    built = [table_of(n, [ETHNIC], {("White",): 20}) for n in tables]
    with pytest.raises(TableError, match=problem):
        LinkedSet(built)


def test_linked_set_refuses_two_totals_for_one_dimension() -> None:
    other = Dimension("ethnic_group", "Total", {"Total": ["White", "Minority"]})
    a = table_of("a", [ETHNIC], {("White",): 20})
    b = table_of("b", [other], {("White",): 20})
    with pytest.raises(TableError, match="has total 'All' in one table and 'Total'"):
        LinkedSet([a, b])


def test_linked_set_refuses_mixed_measures() -> None:
    a = table_of("a", [ETHNIC], {("White",): 20})
    b = Table.from_cells("b", [BAND], [InputCell(("5",), 2, 1.5)], measure="fte")
    with pytest.raises(TableError, match="share one measure"):
        LinkedSet([a, b])


def test_unknown_cell_reference_is_named() -> None:
    linked = LinkedSet([table_of("a", [ETHNIC], {("White",): 20})])
    with pytest.raises(TableError, match="no dimension 'band'"):
        linked.index_of({"band": "5"})
    with pytest.raises(TableError, match=r"has cell \(ethnic_group=Purple\)"):
        linked.index_of({"ethnic_group": "Purple"})


# --- structure files -------------------------------------------------------------

ISSUE_EXAMPLE = """
dimensions:
  - name: body
    total: Wales
    hierarchy:            # parent: [children]; every code of the table appears
      Wales: [LHB, Trust, SHA]
      LHB: [7A1, 7A2, 7A3, 7A4, 7A5, 7A6, 7A7]
      Trust: [RQF, RT4, RYT]
      SHA: [HEIW, DHCW]
  - name: ethnic_group
    total: All
    hierarchy:
      All: [White, Minority, Not stated]
"""


def test_the_issue_example_structure_parses() -> None:
    body, ethnic = parse_structure(ISSUE_EXAMPLE, source="s.yaml")
    assert body.total == "Wales"
    assert len(body.leaves) == 12
    assert ethnic.leaves == ("White", "Minority", "Not stated")


def test_structure_keeps_codes_as_written_and_round_trips(tmp_path: Path) -> None:
    text = "dimensions:\n- name: band\n  total: All\n  hierarchy:\n    All: [01, 5, 8a, yes]\n"
    (band,) = parse_structure(text, source="s.yaml")
    assert band.leaves == ("01", "5", "8a", "yes")
    for fmt, suffix in (("yaml", ".yaml"), ("json", ".json")):
        path = tmp_path / f"s{suffix}"
        path.write_text(render_structure([BODY, band], fmt=fmt))
        assert load_structure(path) == [BODY, band]


def test_json_structure_accepts_numeric_codes() -> None:
    data = {
        "dimensions": [{"name": "band", "total": "All", "hierarchy": {"All": [5, 6]}}]
    }
    (band,) = parse_structure(json.dumps(data), source="s.json")
    assert band.leaves == ("5", "6")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "dimensions:\n- name: a\n  total: T\n  hierarchy: {T: [x]}\n  colour: red\n",
            "unknown key",
        ),
        ("dimensions: []\n", "dimensions"),
        (
            "dimensions:\n- name: a\n  total: T\n  hierarchy: {T: [x], T: [y]}\n",
            "given twice",
        ),
        ("dimensions: [\n", "not valid YAML"),
        (
            (
                "dimensions:\n- name: a\n  total: T\n  hierarchy: {T: [x]}\n"
                "- name: a\n  total: T\n  hierarchy: {T: [x]}\n"
            ),
            "given twice",
        ),
        (
            "dimensions:\n- name: a\n  total: T\n  hierarchy: {T: [x], U: [x]}\n",
            "two parents",
        ),
    ],
)
def test_bad_structure_files_are_refused(text: str, problem: str) -> None:
    with pytest.raises(TableError, match=problem) as caught:
        parse_structure(text, source="s.yaml")
    assert str(caught.value).startswith("s.yaml: ")


def test_missing_structure_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="cannot be read"):
        load_structure(tmp_path / "nope.yaml")


def test_infer_structure_by_total_names_and_by_sums() -> None:
    cells: dict[tuple[str, ...], float | None] = {
        ("All", "X"): 40, ("All", "Y"): 60, ("All", "Sum"): 100,
        ("White", "X"): 30, ("White", "Y"): 50, ("White", "Sum"): 80,
        ("Minority", "X"): 10, ("Minority", "Y"): None, ("Minority", "Sum"): None,
    }  # fmt: skip
    ethnic, other = infer_structure(["ethnic_group", "col"], cells)
    assert ethnic.total == "All"
    assert ethnic.leaves == ("White", "Minority")
    assert other.total == "Sum"
    assert other.leaves == ("X", "Y")


def test_infer_structure_gives_up_clearly() -> None:
    cells: dict[tuple[str, ...], float | None] = {("a",): 1, ("b",): 2, ("c",): None}
    with pytest.raises(TableError, match="cannot tell the total row of column 'x'"):
        infer_structure(["x"], cells)
    with pytest.raises(TableError, match="fewer than two codes"):
        infer_structure(["x"], {("a",): 1})


# --- tidy input ------------------------------------------------------------------


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_csv_with_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfethnic_group,count\nWhite, 30\n\nMinority,12\n")
    tidy = read_tidy(path)
    assert tidy.columns == ("ethnic_group", "count")
    assert tidy.rows == (("White", "30"), ("Minority", "12"))
    assert tidy.row_numbers == (2, 4)


def test_load_table_from_csv_and_xlsx_agree(tmp_path: Path) -> None:
    csv_path = _write_csv(
        tmp_path / "t.csv",
        "band,ethnic_group,count\n5,White,30\n5,Minority,12\n6,White,8\n",
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["band", "ethnic_group", "count"],
        [5, "White", 30],
        [5, "Minority", 12],
        [6, "White", 8.0],
    ):
        sheet.append(row)
    xlsx_path = tmp_path / "t.xlsx"
    book.save(xlsx_path)
    a = load_table(csv_path, [BAND, ETHNIC])
    b = load_table(xlsx_path, [BAND, ETHNIC])
    assert a.name == b.name == "t"
    assert np.array_equal(a.counts, b.counts)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "ethnic_group,count\nWhite,30\nMinority,lots\n",
            "row 3: column 'count' is not a number",
        ),
        ("ethnic_group,count,colour\nWhite,30,red\n", "unexpected column 'colour'"),
        ("ethnic,count\nWhite,30\n", "no column 'ethnic_group'"),
        ("ethnic_group,count\nWhite,30,1\n", "row 2: has 3 fields"),
        ("ethnic_group,count,count\nWhite,30,1\n", "column 'count' appears twice"),
        ("ethnic_group,\nWhite,30\n", "a column has no name"),
        ("", "empty"),
        ("ethnic_group,count\n", "no rows"),
        ("ethnic_group,count\nWhite,inf\n", "not a finite number"),
    ],
)
def test_bad_tidy_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = _write_csv(tmp_path / "t.csv", text)
    with pytest.raises(TableError, match=problem) as caught:
        load_table(path, [ETHNIC])
    assert "lots" not in str(caught.value)


def test_magnitude_columns_are_read(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "fte.csv",
        "ethnic_group,count,fte,top1,top2\nWhite,3,2.5,1.0,0.9\nMinority,1,0.5,0.5,\n",
    )
    tidy = read_tidy(path)
    cells = input_cells(tidy, [ETHNIC], magnitude="fte")
    assert cells[1].top == (0.5, 0.0)
    with pytest.raises(TableError, match="need a magnitude column"):
        input_cells(tidy, [ETHNIC])
    gap = _write_csv(
        tmp_path / "gap.csv", "ethnic_group,count,fte,top2\nWhite,3,2.5,1\n"
    )
    with pytest.raises(TableError, match="without gaps"):
        input_cells(read_tidy(gap), [ETHNIC], magnitude="fte")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="file not found"):
        read_tidy(tmp_path / "none.csv")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(TableError, match="cannot be read as an XLSX workbook"):
        read_tidy(bad)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("ethnic_group,count\nCaf\xe9,3\n".encode("latin-1"))
    with pytest.raises(TableError, match="cannot be read as UTF-8 CSV"):
        read_tidy(latin)
