"""Load-test the HTTP API on a PostgreSQL store: throughput and latency under load.

Sets up a fresh PostgreSQL database (synthetic extracts for all 12 bodies, staff
ingested by each body's data manager, a request approved and released), starts
``wresgov serve`` in its own processes, and runs ``--clients`` concurrent clients for
``--seconds``: each downstream tool downloads the release's files (CSV, XLSX, JSON,
manifest) and each analyst alternates between reading the catalogue and downloading.
Every request is authenticated and audited, as in production. Then the audit chain is
verified. Prints requests/s, p50/p90/p99/max latency, the CPU time the server
processes and the bench database's PostgreSQL backends used during the load (per
request: on a busy machine this is steadier than wall-clock figures; read from
``/proc``, Linux only), the load averages, and the verification.

Target (issue 6): p99 at most 100 ms with 50 clients; the chain verifies after.

    .venv/bin/python bench/api.py [--clients 50] [--seconds 30] [--workers 2]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The rate limit is raised for the run (the bench measures capacity, not the limit);
each client has its own token. Needs a PostgreSQL server; the database
``wresgov_bench_api`` is dropped and created afresh.

``--client python`` (default) runs the clients as asyncio tasks with httpx2 in this
process; ``--client wrk`` drives the same mix with wrk (``apt install wrk``), whose
load generation costs far less CPU on the machine under test, rotating the same
tokens and paths per request.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.config import Settings  # after the path set-up above
from governance.logging import configure
from governance.service import Service
from governance.tablespec import TableSpec
from synthetic.generate import generate

DATABASE = "wresgov_bench_api"
PURPOSE = "Benchmark of the HTTP API: downloads and catalogue reads under load"


def _fresh_database(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{DATABASE}"


def _seed(home: Path, url: str, clients: int, staff: int) -> tuple[str, dict[str, str]]:
    """A store with one release; tokens for the client principals."""
    settings = Settings(home=home, database_url=url)
    service = Service(settings)
    service.init()
    admin = service.caller_for("admin")
    extracts = home / "extracts"
    generate(extracts, staff=staff, seed=1)
    for body_dir in sorted((extracts / "2026").iterdir()):
        body = body_dir.name
        service.add_principal(
            admin, f"dm-{body.lower()}", role="data_manager", body=body
        )
        service.ingest(
            service.caller_for(f"dm-{body.lower()}"),
            body_dir / "staff.csv",
            kind="staff",
            org=body,
            period=2026,
        )
    for name, role in (
        ("analyst", "analyst"),
        ("ig-1", "ig_officer"),
        ("ig-2", "ig_officer"),
    ):
        service.add_principal(admin, name, role=role)
    spec = TableSpec(
        name="staff_ethnicity",
        source="staff",
        measure="headcount",
        dimensions=("body", "ethnic_broad"),
    )
    analyst = service.caller_for("analyst")
    info = service.create_request(analyst, purpose=PURPOSE, period=2026, tables=[spec])
    service.submit_request(analyst, info.id)
    service.approve_request(service.caller_for("ig-1"), info.id)
    service.approve_request(service.caller_for("ig-2"), info.id)
    release = service.export_release(analyst, info.id)
    tokens = {}
    for k in range(clients):
        role = "downstream" if k % 2 == 0 else "analyst"
        name = f"client-{k:03d}"
        tokens[name] = service.add_principal(admin, name, role=role)
    service.close()
    return release.id, tokens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _client(
    url: str,
    token: str,
    files: list[str],
    analyst: bool,
    until: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(token)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        for turn in itertools.count():
            if time.monotonic() >= until:
                return
            path = (
                "/v1/catalogue"
                if analyst and turn % 2 == 0
                else files[rng.randrange(len(files))]
            )
            started = time.perf_counter()
            response = await client.get(path)
            await response.aread()
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1


async def _load(
    url: str, tokens: dict[str, str], files: list[str], seconds: float
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(
            _client(url, token, files, k % 2 == 1, until, latencies, statuses)
            for k, token in enumerate(tokens.values())
        )
    )
    return latencies, statuses, time.monotonic() - started


def _wrk(
    url: str, tokens: dict[str, str], files: list[str], clients: int, seconds: float
) -> str:
    """Run wrk with a script that rotates tokens and the path mix; its report."""
    paths = ["/v1/catalogue" if k % 2 else f for k, f in enumerate(files * 2)]
    script = (
        "tokens = {" + ",".join(json.dumps(t) for t in tokens.values()) + "}\n"
        "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  local path = paths[(counter % #paths) + 1]\n"
        "  local token = tokens[(counter % #tokens) + 1]\n"
        '  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})\n'
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [
        "wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency",
        "-s", handle.name, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            found[int(entry.name)] = (parent, command.decode(errors="replace"))
    return found


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User plus system CPU seconds of one process (0 once it has gone), with those
    of its children that have exited when ``children``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(v) for v in fields[11 : 15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_use(server: int) -> tuple[float, float]:
    """CPU seconds so far of the server's process tree and of the PostgreSQL server.

    PostgreSQL's figure is every one of its processes plus the backends that have
    exited (counted in their parent), so it includes any other database's work.
    """
    processes = _processes()
    tree, grew = {server}, True
    while grew:
        more = {p for p, (parent, _) in processes.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    postgres = {p for p, (_, cmd) in processes.items() if cmd.startswith("postgres:")}
    postmasters = {processes[p][0] for p in postgres}
    return (
        sum(map(_cpu_seconds, tree)),
        sum(map(_cpu_seconds, postgres))
        + sum(_cpu_seconds(p, children=True) for p in postmasters),
    )


def _wrk_requests(report: str) -> int:
    for line in report.splitlines():
        if " requests in " in line:
            return int(line.split()[0])
    return 0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--client", choices=["python", "wrk"], default="python")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    configure(level="warning")

    url = _fresh_database(args.database_url)
    home = Path(tempfile.mkdtemp(prefix="wresgov-bench-api-"))
    release_id, tokens = _seed(home, url, args.clients, args.staff)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        WRESGOV_HOME=str(home),
        WRESGOV_DATABASE_URL=url,
        WRESGOV_API_RATE_LIMIT="1000000",
        WRESGOV_LOG_LEVEL="warning",
    )
    command = [
        str(Path(sys.executable).with_name("wresgov")), "serve", "--port", str(port),
        "--workers", str(args.workers),
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        first = next(iter(tokens.values()))
        listing = httpx.get(
            f"{base}/v1/releases/{release_id}",
            headers={"Authorization": f"Bearer {first}"},
            timeout=30,
        ).json()
        files = [item["url"] for item in listing["files"]]
        print(
            f"server: {args.workers} process(es) on PostgreSQL; {args.clients} clients"
            f" for {args.seconds:.0f} s; release {release_id} with {len(files)} files"
        )
        cpu_before = _cpu_use(server.pid)
        if args.client == "wrk":
            report = _wrk(base, tokens, files, args.clients, args.seconds)
            requests = _wrk_requests(report)
        else:
            latencies, statuses, elapsed = asyncio.run(
                _load(base, tokens, files, args.seconds)
            )
            requests = len(latencies)
        cpu_after = _cpu_use(server.pid)
        load = os.getloadavg()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    if args.client == "wrk":
        print("  wrk: " + "\n  ".join(report.strip().splitlines()))
    else:
        ms = [v * 1000 for v in latencies]
        print(
            f"  requests    {len(ms):>8,}   statuses {dict(sorted(statuses.items()))}"
        )
        print(f"  throughput  {len(ms) / elapsed:>8,.0f} requests/s")
        print(
            f"  latency ms  p50 {_percentile(ms, 0.50):.1f}"
            f"   p90 {_percentile(ms, 0.90):.1f}   p99 {_percentile(ms, 0.99):.1f}"
            f"   max {max(ms):.1f}   mean {statistics.fmean(ms):.1f}"
        )
    server_cpu, database_cpu = (
        a - b for a, b in zip(cpu_after, cpu_before, strict=True)
    )
    print(
        f"  CPU         server {server_cpu:.1f} s + PostgreSQL {database_cpu:.1f} s"
        f" = {1000 * (server_cpu + database_cpu) / max(requests, 1):.2f} ms/request"
        f"   load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    service = Service(Settings(home=home, database_url=url))
    started = time.perf_counter()
    verified = service.verify_audit(service.caller_for("ig-1"))
    print(
        f"  audit chain     {verified.summary()} ({time.perf_counter() - started:.1f} s)"
    )
    service.close()
    return 0 if verified.ok else 1


if __name__ == "__main__":
    sys.exit(main())
