"""The line splitter reads a block exactly as the csv module does, or declines it."""

from __future__ import annotations

import csv
import io

from hypothesis import event, given
from hypothesis import strategies as st

from governance.ingest import LineSplitter

WIDTH = 4
plain = st.text(alphabet=st.sampled_from("ab 7łé"), max_size=5)
# Commas, quotes and line breaks inside values, and rows of the wrong width.
tricky = st.text(alphabet=st.sampled_from('ab ,"\r\nłé7'), max_size=6)
rows = st.integers(0, 9).flatmap(
    lambda choice: (
        st.lists(plain, min_size=WIDTH, max_size=WIDTH)
        if choice
        else st.lists(tricky, min_size=WIDTH - 1, max_size=WIDTH + 1)
    )
)
endings = st.sampled_from(["\r\n", "\n", "\r"])


@st.composite
def blocks(draw: st.DrawFn) -> list[str]:
    """Lines as ingest reads them (universal line breaks, kept), CSV-written or not."""
    table = draw(st.lists(rows, min_size=1, max_size=20))
    text = io.StringIO()
    if draw(st.booleans()):
        csv.writer(text, lineterminator=draw(endings)).writerows(table)
    else:
        ending = draw(endings)
        text.write("".join(",".join(row) + ending for row in table))
    if draw(st.booleans()):
        text.write(draw(tricky))  # a last line without a line break, or a blank one
    return io.StringIO(text.getvalue(), newline="").readlines()


positions = st.lists(st.integers(-1, WIDTH - 1), min_size=1, max_size=WIDTH + 1)


@given(blocks(), positions)
def test_split_is_what_the_csv_module_reads(
    lines: list[str], wanted: list[int]
) -> None:
    columns = LineSplitter(WIDTH, wanted).split(lines)
    event("split" if columns is not None else "declined")
    if columns is None:
        return  # the caller reads this block with the csv module instead
    reader = csv.reader(lines, strict=True)
    rows = [next(reader) for _ in lines]
    assert reader.line_num == len(lines)  # one row a line
    assert all(len(row) == WIDTH for row in rows)
    assert columns == [
        [row[position] if position >= 0 else "" for row in rows] for position in wanted
    ]


def test_usual_blocks_are_split_without_the_csv_module() -> None:
    lines = [
        *(f"{number},Ann,A White - British,0.8\r\n" for number in range(1, 9)),
        '9,Bob,"C3 White - Other white, white unspecified",1\r\n',
        "10,Cai,A,0.5",
    ]
    assert LineSplitter(4, [0, 2, -1]).split(lines) == [
        [str(number) for number in range(1, 11)],
        [
            *["A White - British"] * 8,
            "C3 White - Other white, white unspecified",
            "A",
        ],
        [""] * 10,
    ]


def test_blocks_for_the_csv_module() -> None:
    splitter = LineSplitter(2, [0, 1])
    assert splitter.split(["a,b\r\n", "\r\n"]) is None  # a blank line
    assert splitter.split(["a,b\r\n", "a,b,c\r\n"]) is None  # a long row
    assert splitter.split(['"a\r\n', 'b",c\r\n']) is None  # a line break in a value
    assert splitter.split(['"a"b,c\r\n', "d,e\r\n"]) is None  # bad quoting
    assert splitter.split(['"a",b\r\n', '"c",d\r\n']) is None  # mostly quoted
    assert splitter.split(["a,b\r", "c,d\r"]) is None  # old Mac line breaks
    assert splitter.split(["a,b\n", "c,d\r\n"]) is None  # mixed line breaks
    assert splitter.split(["a,b\r\n", "c,d\n"]) is None
    assert splitter.split(["a,b\r\nc,d\r\n"]) is None  # not one line an item
    assert splitter.split(["a,b\0\r\n"]) is None  # NUL: the csv module refuses it
    long_value = "x" * (csv.field_size_limit() + 1)
    assert splitter.split([f"a,{long_value}\r\n"]) is None
