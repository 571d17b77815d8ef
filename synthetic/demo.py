"""``wresgov demo``: the annual cycle on synthetic data, in one fresh directory.

This module is glue between the synthetic generator (which needs faker, so it cannot
live in ``governance``) and the service. Everything the demo writes stays inside its
directory: the extracts, the SQLite store, the key directory and the reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from governance.config import Settings
from governance.errors import ConfigError
from governance.extract_format import KINDS, Kind
from governance.release_verify import verify_release
from governance.request_specs import NATIONAL_PACK, pack_specs
from governance.service import IngestResult, Service
from synthetic.generate import generate

Report = Callable[[str], None]
RowProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    extracts_dir: Path
    database: str
    key_dir: Path
    reports_dir: Path
    people: int
    ingests: tuple[IngestResult, ...]
    seconds: float
    release: DemoRelease

    def totals(self, kind: Kind) -> tuple[int, int]:
        """(rows accepted, rows quarantined) for one kind across all bodies."""
        results = [r for r in self.ingests if r.kind == kind]
        return (
            sum(r.rows_accepted for r in results),
            sum(r.rows_quarantined for r in results),
        )


@dataclass(frozen=True)
class DemoRelease:
    request_id: int
    evidence: str
    directory: Path | None
    """None when the checks failed: nothing can be approved or released."""
    release_verified: bool
    audit: str
    audit_verified: bool


def _release_cycle(
    service: Service,
    tokens: dict[str, str],
    directory: Path,
    period: int,
    report: Report,
) -> DemoRelease:
    """An analyst requests national tables; two IG officers approve; it is released."""
    analyst = service.authenticate(tokens["analyst-1"])
    officers = [service.authenticate(tokens[f"ig-officer-{n}"]) for n in (1, 2)]
    specs = pack_specs(NATIONAL_PACK)
    info = service.create_request(
        analyst,
        purpose="Annual WRES report to the boards: the national pack for all Wales",
        period=period,
        tables=specs,
        pack=NATIONAL_PACK,
    )
    report(
        f"request    {info.id} by analyst-1: pack {NATIONAL_PACK}"
        f" ({len(specs)} tables, every scope)"
    )
    info = service.submit_request(analyst, info.id)
    evidence = info.evidence() or {}
    report(f"checks     {info.record.evidence}: {_summary(evidence)}")
    for reason in evidence.get("reasons", []):
        report(f"           review: {reason}")
    if info.record.evidence == "fail":
        # a failed check can only be returned or rejected; the demo stops here
        report(f"           refused: {evidence.get('message', '')}")
        report("           (the pack needs more staff per body; try a larger --staff)")
        chain = service.verify_audit(officers[0])
        report(f"audit      {chain.summary()}")
        return DemoRelease(info.id, "fail", None, False, chain.summary(), chain.ok)
    for officer in officers:
        info = service.approve_request(officer, info.id)
    report(f"approved   by ig-officer-1 and ig-officer-2 (state {info.state})")
    out = directory / "releases" / f"request-{info.id}"
    service.export_release(analyst, info.id, out)
    verified = verify_release(out, [service.signing_key("release").public_key])
    report(
        f"release    {out} (signature and hashes {'verified' if verified.ok else 'FAILED'})"
    )
    scopes = sorted(p.name for p in (out / "reports").iterdir())
    report(
        f"reports    {len(scopes)} scopes (all Wales, each type of body, each body):"
        f" {out / 'reports' / 'Wales' / 'report.html'} and the others"
    )
    chain = service.verify_audit(officers[0])
    report(f"audit      {chain.summary()}")
    return DemoRelease(
        info.id,
        str(info.record.evidence),
        out,
        verified.ok,
        chain.summary(),
        chain.ok,
    )


def _summary(evidence: dict[str, object]) -> str:
    """Tables, cells, hidden cells and the whole-pack audit, from the evidence."""
    sets = evidence.get("linked_sets")
    sets = sets if isinstance(sets, list) else []
    tables = sum(len(s["tables"]) for s in sets)
    cells = sum(int(s["cells"]) for s in sets)
    primary = sum(int(s["primary"]) for s in sets)
    secondary = sum(int(s["secondary"]) for s in sets)
    whole = evidence.get("whole_pack_audit")
    check = (
        f"; whole-pack audit: {len(whole['unsafe'])} unsafe"
        if isinstance(whole, dict)
        else ""
    )
    return (
        f"{tables} tables in {len(sets)} linked sets, {cells:,} cells,"
        f" {primary:,} <10, {secondary:,} [c]{check}"
    )


def new_demo_dir(base: Path, now: datetime | None = None) -> Path:
    """A directory name that does not exist yet: ``wresgov-demo-YYYYMMDD-HHMMSS``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    candidate = base / f"wresgov-demo-{stamp}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"wresgov-demo-{stamp}-{suffix}"
    return candidate


def _create_principals(
    service: Service, admin_token: str, tokens_dir: Path
) -> dict[str, str]:
    """The cast of the annual cycle; each token is kept in ``tokens_dir`` (0600)."""
    admin = service.authenticate(admin_token)
    cast: list[tuple[str, str, str | None]] = [
        (f"dm-{body.code.lower()}", "data_manager", body.code)
        for body in service.reference.bodies
    ]
    cast += [
        ("analyst-1", "analyst", None),
        ("ig-officer-1", "ig_officer", None),
        ("ig-officer-2", "ig_officer", None),
        ("publisher-ci", "publisher", None),
    ]
    tokens = {"admin": admin_token}
    for name, role, body in cast:
        tokens[name] = service.add_principal(admin, name, role=role, body=body)
    tokens_dir.mkdir(mode=0o700)
    for name, token in tokens.items():
        path = tokens_dir / f"{name}.token"
        path.touch(mode=0o600)
        path.write_text(token + "\n", encoding="ascii")
    return tokens


def run_demo(
    directory: Path,
    *,
    staff: int = 112_105,
    seed: int = 0,
    period: int = 2026,
    dirty: float = 0.0,
    report: Report = lambda _line: None,
    progress: RowProgress | None = None,
) -> DemoResult:
    """Run init, synthetic extracts for all 12 bodies, and ingest, in ``directory``.

    Raises:
        ConfigError: ``directory`` exists and is not empty (the demo always starts
            afresh, so it never mixes with an earlier store).
    """
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory} is not empty; the demo needs a new directory")
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=directory)
    service = Service(settings)
    try:
        init = service.init()
        report(f"store      {init.database}")
        report(f"keys       {init.key_dir} (master key created, mode 0600)")
        assert init.admin_token is not None  # noqa: S101 - a fresh store
        tokens_dir = directory / "tokens"
        tokens = _create_principals(service, init.admin_token, tokens_dir)
        report(
            f"principals {len(tokens)} (admin, a data manager per body, an analyst, "
            f"two IG officers, a publisher); demo tokens in {tokens_dir}"
        )

        extracts_dir = directory / "extracts"
        synth = generate(
            extracts_dir, seed=seed, staff=staff, period=period, dirty=dirty
        )
        report(
            f"extracts   {extracts_dir / str(period)}: {len(synth.files)} files, "
            f"{synth.staff:,} synthetic staff in {len(synth.headcount)} bodies"
        )

        ingests: list[IngestResult] = []
        bodies = list(synth.headcount)
        for position, org in enumerate(bodies, start=1):
            data_manager = service.authenticate(tokens[f"dm-{org.lower()}"])
            for kind in KINDS:
                path = extracts_dir / str(period) / org / f"{kind}.csv"
                ingests.append(
                    service.ingest(
                        data_manager, path, kind=kind, org=org, period=period
                    )
                )
            if progress is not None:
                progress(org, position, len(bodies))
        release = _release_cycle(service, tokens, directory, period, report)
        return DemoResult(
            directory=directory,
            extracts_dir=extracts_dir,
            database=init.database,
            key_dir=init.key_dir,
            reports_dir=settings.reports_dir,
            people=synth.staff,
            ingests=tuple(ingests),
            seconds=time.perf_counter() - started,
            release=release,
        )
    finally:
        service.close()
