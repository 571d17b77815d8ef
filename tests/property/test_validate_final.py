"""A column taken as it is (``FieldSpec.final``) is what pydantic would return."""

from __future__ import annotations

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from governance.pseudonymise import MasterKey, Pseudonymiser
from governance.reference import load_reference
from governance.validate import FieldSpec, RowContext, RowValidator

SPECS = [
    spec
    for spec in RowValidator(
        "staff",
        RowContext(load_reference(), "7A1", 2026),
        Pseudonymiser(MasterKey(bytes(32))),
    )._specs
    if spec.final is not None
]
values = st.text(alphabet=st.sampled_from("AB1z9 -/\n\t\u00a0É"), max_size=12)
written = st.sampled_from(["20000001", "AB123456C", "2000-1", "ab123456c", " 1", ""])


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
@given(column=st.lists(st.one_of(written, written, written, values), max_size=6))
@example(column=["20000001", "2000-1", "AB123456C"])
@example(column=["AB123456C", "", "ZZ000000D"])
def test_a_final_column_is_what_validation_returns(
    spec: FieldSpec, column: list[str]
) -> None:
    assert spec.final is not None
    joined = "\n".join(column)
    taken = joined.count("\n") == len(column) - 1 and spec.final.fullmatch(joined)
    event("taken as it is" if taken else "validated by pydantic")
    if not taken:
        return
    translated = column if spec.translate is None else list(map(spec.translate, column))
    try:
        validated = TypeAdapter(list[spec.type]).validate_python(translated)  # type: ignore[name-defined]
    except ValidationError:  # pragma: no cover - the assertion that failed
        pytest.fail("a column taken as it is did not validate")
    assert validated == column


def test_identifier_and_ni_columns_are_taken_as_they_are() -> None:
    assert [spec.name for spec in SPECS] == [
        "employee_number",
        "assignment_number",
        "ni_number",
    ]
