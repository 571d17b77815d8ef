"""Row validation for ESR extracts: pydantic schemas built from the reference data.

Part of the personal-data zone: a row arrives with direct identifiers and leaves as a
pseudonymised record (``governance.models`` field order) or as a list of problems
naming fields, never values.

Validation runs column by column, a batch at a time, cheap enough for well over
100,000 rows a second:

1. *Translate*: free-text codes (``A White - British``, ``band 8A``, ``Male``) and
   dates (``DD/MM/YYYY``, ``YYYY-MM-DD``, ESR's ``DD-MON-YYYY``) are normalised;
   untranslatable text is passed on unchanged.
2. *Validate*: a pydantic ``TypeAdapter`` checks each value in pydantic-core: codes
   against ``Literal`` sets built from the reference data, dates and FTE against
   their ranges, identifiers against their patterns.

An extract repeats a few hundred distinct values in most columns, so those columns
are translated and validated once per distinct raw text and the outcome (the value,
or the problem) is memoised; a column of such a batch is then one dictionary lookup
per row. Identifiers, which rarely repeat, are validated a whole column at a time:
one regular expression over the column joined by line breaks when every value is
already in final form (``FieldSpec.final``), pydantic otherwise.

Cross-field rules (a medical grade needs the Medical and Dental staff group; nobody
starts work before 16; nobody is appointed without being shortlisted) run last.
The reporting year for a period ``P`` runs from 1 April ``P-1`` to 31 March ``P``.

This module holds the validator; ``governance.validate_fields`` what every field
shares (its spec, the row context, dates, batches) and
``governance.validate_kinds`` each extract kind's fields, cross-field rules and
records. All three are in the personal-data zone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import is_
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError

from governance import validate_fields as fields
from governance.extract_format import Kind
from governance.pseudonymise import Namespace, Pseudonymiser
from governance.validate_fields import (
    Columns,
    FieldSpec,
    Problem,
    RowContext,
    keep_rows,
)
from governance.validate_kinds import DUPLICATE_KEYS, KINDS, WRONG_BAND

__all__ = [
    "DUPLICATE_KEYS",
    "WRONG_BAND",
    "Columns",
    "FieldSpec",
    "RowContext",
    "RowValidator",
    "keep_rows",
]

MAX_MEMO: Final = 50_000  # bound the translation caches on hostile input

_RANGE_ERRORS: Final = frozenset(
    {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
)


class RowValidator:
    """Validates rows of one kind, a batch at a time, given values in ``fields`` order.

    Work is done column by column: a memoised column is one dictionary lookup per
    row, and any other column is one pydantic call, so per-row Python work stays
    small. The memos live as long as the validator: one extract.
    """

    def __init__(
        self, kind: Kind, context: RowContext, pseudonymiser: Pseudonymiser
    ) -> None:
        self.kind = kind
        self._context = context
        self._pseudonymiser = pseudonymiser
        specs, self._build = KINDS[kind](self, context)
        self._specs = specs
        self.fields = tuple(spec.name for spec in specs)
        # One adapter per column (whole columns: pydantic-core does the loop) and
        # one per value (memo misses, and finding the bad values of a column).
        self._adapters: list[tuple[TypeAdapter[list[Any]], TypeAdapter[Any]]] = [
            (TypeAdapter(list[spec.type]), TypeAdapter(spec.type))  # type: ignore[name-defined]
            for spec in specs
        ]
        # raw text -> validated value, and raw text -> problem, per memoised field.
        self._memos: list[tuple[dict[str, Any], dict[str, str]] | None] = [
            ({}, {}) if spec.memoised else None for spec in specs
        ]

    def validate_batch(
        self, rows: list[int], raws: list[tuple[str, ...]]
    ) -> tuple[Columns, list[Problem]]:
        """Return the valid rows' records column by column, and every problem.

        The record columns follow ``RECORD_FIELDS`` (source row first); a batch
        without valid rows gives no columns at all.
        """
        if not raws:
            return [], []
        return self.validate_columns(rows, list(zip(*raws, strict=True)))

    def validate_columns(
        self, rows: list[int], raw_columns: Sequence[Sequence[str]]
    ) -> tuple[Columns, list[Problem]]:
        """As :meth:`validate_batch`, given the batch column by column (in ``fields``
        order): what ingest passes, since it splits the file into columns."""
        if not rows:
            return [], []
        columns: Columns = []
        problems: list[Problem] = []
        bad: set[int] = set()
        for index, raw in enumerate(raw_columns):
            memo = self._memos[index]
            if memo is None:
                columns.append(self._validate_column(index, raw, rows, problems, bad))
                continue
            try:
                out = list(map(memo[0].__getitem__, raw))
            except KeyError:  # a text not validated yet (None is never a value)
                out = list(map(memo[0].get, raw))
                self._fill(index, memo, raw, out, rows, problems, bad)
            columns.append(out)
        if bad:
            rows, columns = keep_rows(rows, columns, bad)
            if not rows:
                return [], problems
        records, cross = self._build(rows, columns)
        return records, problems + cross

    def _validate_column(
        self,
        index: int,
        raw: Sequence[str],
        rows: list[int],
        problems: list[Problem],
        bad: set[int],
    ) -> Sequence[Any]:
        spec = self._specs[index]
        if spec.final is not None:
            joined = "\n".join(raw)
            if joined.count("\n") == len(raw) - 1 and spec.final.fullmatch(joined):
                return raw
        column_adapter, value_adapter = self._adapters[index]
        translate = spec.translate
        values = raw if translate is None else list(map(translate, raw))
        try:
            return column_adapter.validate_python(values)
        except ValidationError:
            # Rare: find the bad values one by one, keep the rest.
            checked: list[Any] = []
            for position, value in enumerate(values):
                try:
                    checked.append(value_adapter.validate_python(value))
                except ValidationError as exc:
                    kind = exc.errors(include_input=False)[0]["type"]
                    field, problem = self._problem(index, kind, raw[position])
                    problems.append((rows[position], field, problem))
                    bad.add(position)
                    checked.append(None)
            return checked

    def _fill(
        self,
        index: int,
        memo: tuple[dict[str, Any], dict[str, str]],
        raw: Sequence[str],
        out: list[Any],
        rows: list[int],
        problems: list[Problem],
        bad: set[int],
    ) -> None:
        """Validate the raw texts the memo does not hold yet, in row order."""
        valid, invalid = memo
        spec = self._specs[index]
        value_adapter = self._adapters[index][1]
        # Only the rows the memo missed (found without a Python loop over the batch).
        for position in compress(range(len(out)), map(is_, out, repeat(None))):
            text = raw[position]
            value = valid.get(text)  # validated at an earlier row of this batch
            if value is not None:
                out[position] = value
                continue
            problem = invalid.get(text)
            if problem is None:
                candidate = text if spec.translate is None else spec.translate(text)
                try:
                    value = value_adapter.validate_python(candidate)
                except ValidationError as exc:
                    kind = exc.errors(include_input=False)[0]["type"]
                    problem = self._problem(index, kind, text)[1]
                    if len(invalid) < MAX_MEMO:
                        invalid[text] = problem
                else:
                    if len(valid) < MAX_MEMO:
                        valid[text] = value
                    out[position] = value
                    continue
            problems.append((rows[position], spec.name, problem))
            bad.add(position)

    def _problem(self, index: int, kind: str, raw: str) -> tuple[str, str]:
        spec = self._specs[index]
        if not raw.strip():
            return spec.name, "is blank"
        if kind in _RANGE_ERRORS and spec.range_problem:
            return spec.name, spec.range_problem
        problem = spec.problem
        return spec.name, problem if isinstance(problem, str) else problem(raw)

    def pseudonym_function(
        self, namespace: Namespace
    ) -> Callable[[Sequence[str]], list[str]]:
        """Pseudonyms of a column of already normalised identifiers (upper case, no
        spaces)."""
        return self._pseudonymiser.for_column(namespace)

    # -- shared field specs ---------------------------------------------------------

    def org_spec(self) -> FieldSpec:
        reference, org = self._context.reference, self._context.org
        known = {body.code for body in reference.bodies}

        def problem(raw: str) -> str:
            if raw.strip().upper() in known:
                return "names another body than the extract's (--org)"
            return "is not an NHS Wales body code"

        return FieldSpec(
            "organisation_code",
            Literal[org],
            problem,
            translate=lambda raw: raw.strip().upper(),
        )

    def ethnic_spec(self) -> FieldSpec:
        reference = self._context.reference

        def translate(raw: str) -> str:
            category = reference.parse_ethnic_origin(raw)
            return raw if category is None else category.code

        codes = [category.code for category in reference.ethnic_categories]
        return FieldSpec(
            "ethnic_origin",
            fields.one_of(codes),
            "is not an NHS ethnic category code",
            translate=translate,
        )

    def band_spec(self, name: str) -> FieldSpec:
        reference = self._context.reference

        def translate(raw: str) -> str:
            band = reference.parse_pay_band(raw)
            return raw if band is None else band

        bands = [
            *reference.pay_bands,
            *(grade.name for grade in reference.medical_grades),
        ]
        return FieldSpec(
            name,
            fields.one_of(bands),
            "is not an AfC band, VSM or medical and dental grade",
            translate=translate,
        )

    def in_year_spec(self, name: str) -> FieldSpec:
        return FieldSpec(
            name,
            fields.date_between(self._context.year_start, self._context.snapshot),
            "is not a real date (DD/MM/YYYY or YYYY-MM-DD)",
            "is outside the reporting year (1 April to 31 March)",
            translate=fields.parse_date,
        )

    def ethnic_groups(self) -> tuple[dict[str, str], dict[str, str]]:
        """Broad group and WRES group of every ethnic category code."""
        categories = self._context.reference.ethnic_categories
        return (
            {category.code: category.broad_group for category in categories},
            {category.code: category.wres_group for category in categories},
        )
