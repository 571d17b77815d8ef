"""Write synthetic ESR extracts for every NHS Wales body: the package's entry points.

Owns :func:`generate` (all bodies and kinds, ``DIR/<period>/<body code>/<kind>.csv``,
plus ``faults.json`` in dirty mode), :func:`write_staff_extract` (one large staff file,
streamed, for benchmarks) and :class:`SynthSummary`.

Determinism: every random stream is seeded from ``(seed, body code, purpose)``, Faker
instances are seeded per instance, and rows are written in a fixed order, so the same
arguments give byte-identical files (with the same numpy and Faker versions). Files
are UTF-8 without a byte-order mark, comma-separated, CRLF line endings, quoted only
where a value needs it (some ESR ethnic labels contain commas).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from governance.extract_format import KINDS, Kind, headers
from governance.reference import Reference, load_reference
from synthetic import activity
from synthetic.faults import Fault, FaultInjector
from synthetic.names import NamePools, build_name_pools
from synthetic.plan import MAX_PEOPLE_PER_BODY, IdScheme, Plan, plan_for, stream_seed
from synthetic.staff import CHUNK, People, Row, draw_staff

Progress = Callable[[str, int, int], None]
"""Called as ``progress(body_code, people_done, people_total)`` after each chunk."""

FAULTS_FILE = "faults.json"
FAULTS_FORMAT = "wresgov-synthetic-faults/1"
ROW_NUMBERING = "1-based data row, header excluded (CSV line number minus 1)"
MIN_PERIOD, MAX_PERIOD = 1990, 2100


@dataclass(frozen=True)
class FileSummary:
    body: str
    kind: Kind
    path: Path
    rows: int
    """Data rows written (header excluded; duplicated rows included)."""
    faults: tuple[Fault, ...]


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate` wrote: per body and kind, rows and injected faults."""

    out_dir: Path
    period: int
    seed: int
    dirty: float
    headcount: Mapping[str, int]
    """People in post per body (the staff extract has more rows: second assignments)."""
    files: tuple[FileSummary, ...]

    @property
    def staff(self) -> int:
        return sum(self.headcount.values())

    def rows(self, body: str | None = None, kind: Kind | None = None) -> int:
        return sum(
            f.rows
            for f in self.files
            if (body is None or f.body == body) and (kind is None or f.kind == kind)
        )

    def rows_by_kind(self) -> dict[Kind, int]:
        return {kind: self.rows(kind=kind) for kind in KINDS}

    def faults(self, body: str | None = None) -> tuple[Fault, ...]:
        return tuple(
            fault
            for f in self.files
            if body is None or f.body == body
            for fault in f.faults
        )


def _check(staff: int, period: int, dirty: float) -> None:
    if staff < 0:
        raise ValueError("staff must not be negative")
    if not MIN_PERIOD <= period <= MAX_PERIOD:
        raise ValueError(f"period must be a year from {MIN_PERIOD} to {MAX_PERIOD}")
    if not 0.0 <= dirty <= 1.0:
        raise ValueError("dirty must be a rate from 0 to 1")


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` by weights, largest remainders first (ties in weight order)."""
    shares = {code: total * w / sum(weights.values()) for code, w in weights.items()}
    counts = {code: int(share) for code, share in shares.items()}
    short = total - sum(counts.values())
    by_remainder = sorted(shares, key=lambda code: counts[code] - shares[code])
    for code in by_remainder[:short]:
        counts[code] += 1
    return counts


class _Writer:
    """One CSV file: header, then rows through an optional fault injector."""

    def __init__(self, path: Path, kind: Kind, injector: FaultInjector | None) -> None:
        self.path, self.kind, self._injector = path, kind, injector
        self._file = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(headers(kind))
        self.rows = 0

    def write(self, rows: Iterable[Row]) -> None:
        if self._injector is not None:
            rows = list(self._injector.apply(rows))
        else:
            rows = list(rows)
        self._csv.writerows(rows)
        self.rows += len(rows)

    def close(self, body: str) -> FileSummary:
        self._file.close()
        faults = tuple(self._injector.faults) if self._injector else ()
        return FileSummary(body, self.kind, self.path, self.rows, faults)


def _rng(seed: int, *labels: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(stream_seed(seed, *labels)))


def generate(
    out_dir: Path,
    *,
    seed: int = 0,
    staff: int = 112_105,
    period: int = 2026,
    dirty: float = 0.0,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write every body's extracts of every kind under ``out_dir/<period>/``.

    ``staff`` is the all-Wales headcount (people), split between bodies by the
    reference weights. With ``dirty > 0`` about that share of rows carries one fault,
    recorded in ``<body>/faults.json``; with ``dirty == 0`` no faults file is written.

    Raises:
        ValueError: staff is negative, period is not a plausible year, or dirty is
            not a rate from 0 to 1.
    """
    _check(staff, period, dirty)
    plan = plan_for(period)
    reference = plan.reference
    pools = build_name_pools(seed)
    counts = apportion(staff, reference.synthetic.org_weights.value)
    if max(counts.values(), default=0) > MAX_PEOPLE_PER_BODY:
        raise ValueError(f"at most {MAX_PEOPLE_PER_BODY} staff per body")
    files: list[FileSummary] = []
    for block, body in enumerate(reference.bodies):
        files += _generate_body(
            plan,
            pools,
            out_dir / str(period),
            body.code,
            block,
            counts[body.code],
            seed,
            dirty,
            progress,
        )
    return SynthSummary(
        out_dir, period, seed, dirty, MappingProxyType(counts), tuple(files)
    )


def _injector(
    plan: Plan, kind: Kind, org: str, seed: int, dirty: float
) -> FaultInjector | None:
    if dirty <= 0:
        return None
    return FaultInjector(plan, kind, org, dirty, _rng(seed, org, kind, "faults"))


def _generate_body(
    plan: Plan,
    pools: NamePools,
    period_dir: Path,
    org: str,
    block: int,
    headcount: int,
    seed: int,
    dirty: float,
    progress: Progress | None,
) -> list[FileSummary]:
    body_dir = period_dir / org
    body_dir.mkdir(parents=True, exist_ok=True)
    ids = IdScheme.for_body(seed, block)
    writers = {
        kind: _Writer(
            body_dir / f"{kind}.csv", kind, _injector(plan, kind, org, seed, dirty)
        )
        for kind in KINDS
    }
    rng = _rng(seed, org, "staff")
    parts: list[People] = []
    for first in range(0, headcount, CHUNK):
        count = min(CHUNK, headcount - first)
        people, rows = draw_staff(plan, pools, ids, rng, org, first, count)
        parts.append(people)
        writers["staff"].write(rows)
        if progress is not None:
            progress(org, first + count, headcount)
    people = People.concat(parts)
    applicants = IdScheme.for_body(seed, block, "applicants")
    writers["recruitment"].write(
        activity.recruitment(
            plan, _rng(seed, org, "recruitment"), applicants, org, headcount
        )
    )
    writers["er-cases"].write(
        activity.er_cases(plan, _rng(seed, org, "er-cases"), org, people)
    )
    writers["training"].write(
        activity.training(plan, _rng(seed, org, "training"), org, people)
    )
    writers["board"].write(activity.board(plan, _rng(seed, org, "board"), org))
    summaries = [writers[kind].close(org) for kind in KINDS]
    if dirty > 0:
        _write_faults(body_dir / FAULTS_FILE, org, plan.period, seed, dirty, summaries)
    if progress is not None and headcount == 0:
        progress(org, 0, 0)
    return summaries


def _write_faults(
    path: Path, org: str, period: int, seed: int, dirty: float, files: list[FileSummary]
) -> None:
    head = {
        "format": FAULTS_FORMAT,
        "body": org,
        "period": period,
        "seed": seed,
        "dirty": dirty,
        "row_numbering": ROW_NUMBERING,
    }
    # One fault per line: readable, diffable, and still a single JSON document.
    lines = ["  " + json.dumps(fault.as_json()) for f in files for fault in f.faults]
    faults = "[\n" + ",\n".join(lines) + "\n ]" if lines else "[]"
    text = json.dumps(head, indent=1)[:-2] + f',\n "faults": {faults}\n}}\n'

    path.write_text(text, encoding="utf-8")


def write_staff_extract(
    path: Path,
    *,
    rows: int,
    org: str = "7A1",
    seed: int = 0,
    period: int = 2026,
) -> None:
    """Write one staff extract of exactly ``rows`` data rows, streamed in chunks.

    Memory stays at one chunk (tens of thousands of rows) whatever ``rows`` is.

    Raises:
        ValueError: rows is negative or too large, org is not a body code, or the
            period is not a plausible year.
    """
    _check(rows, period, 0.0)
    if rows > MAX_PEOPLE_PER_BODY:
        raise ValueError(f"at most {MAX_PEOPLE_PER_BODY} rows")
    reference: Reference = load_reference()
    try:
        block = [b.code for b in reference.bodies].index(reference.body(org).code)
    except KeyError:
        raise ValueError("org is not an NHS Wales body code") from None
    code = reference.bodies[block].code
    plan = plan_for(period)
    pools = build_name_pools(seed)
    ids = IdScheme.for_body(seed, block)
    rng = _rng(seed, code, "staff")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _Writer(path, "staff", None)
    first = 0
    try:
        while writer.rows < rows:
            # Second assignments add rows, so a chunk of this many people is enough.
            count = min(CHUNK, rows - writer.rows)
            _, chunk = draw_staff(plan, pools, ids, rng, code, first, count)
            first += count
            writer.write(chunk[: rows - writer.rows])
    finally:
        writer.close(code)
