"""HTTP overhead of the service: authenticated `GET /v1/supplier` against a bare FastAPI route and, on
PostgreSQL, against the same lookups written directly on asyncpg.

Every server is served by uvicorn on loopback (one worker each, the same options) and measured in the same run
by one concurrent keep-alive client, alternating between them in rounds so that drift in the machine's load
hits all alike. Prints requests per second, p50 and p95 latency and server CPU per request of each, and:

- the ratio real / bare (requests per second). Goal: >= 0.5.
- on PostgreSQL, server CPU per request of the service against two baselines (`bench/asyncpg_app.py`) that
  answer `GET /v1/supplier` with the service's body, doing its lookups the plain way (token, revocation and
  owner in one statement, then the dashboard figures in another; the service does both in one):
  hand-written on a raw asyncpg pool, and in SQLAlchemy async Core on asyncpg. Goal (issue 16): service /
  raw asyncpg <= 1.5.

    python -m bench.http [--database-url URL] [--duration SECONDS] [--concurrency N]

With `--database-url`, the service runs on that database (for PostgreSQL, give it an empty database: `init`
migrates it to head); otherwise on SQLite in a temporary data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.table import Table

from infomediary.mail import spool

GOAL = 0.5
CPU_GOAL = 1.5  # issue 16: server CPU per request, service / raw asyncpg baseline, on PostgreSQL
# The database baselines (`bench/asyncpg_app.py`): label, uvicorn factory, what the report calls it.
DB_BASELINES = (
    ("asyncpg", "bench.asyncpg_app:raw_app", "raw asyncpg"),
    ("sa_async", "bench.asyncpg_app:core_app", "SA async Core"),
)
LABELS = {"bare": "bare route", "real": "service", **{key: label for key, _, label in DB_BASELINES}}
HOST = "127.0.0.1"  # loopback only: nothing here is ever reachable from another machine
REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60.0
MAX_DURATION_S = 20.0  # keeps a whole run well under a minute

console = Console()


@dataclass
class Sample:
    """What one server did during the measured (not warm-up) windows."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float | None = None  # the server process's own CPU time (user + system), where /proc has it
    client_cpu_seconds: float = 0.0  # this process's CPU time while it drove the load

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    headers: dict[str, str]
    pid: int


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its live descendants (uvicorn's workers), all their threads,
    from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the ")" that closes the command name, utime and stime are the 12th and 13th fields.
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for child in _children(pid):
        total += _cpu_seconds(child) or 0.0
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def mailed_token(mail_dir: Path, email: str) -> str:
    """The token of the confirmation link the server kept for `email` in its mail directory."""
    for kept in spool.listing(mail_dir):
        if kept.to == email:
            found = re.search(r"/verify-email\?token=([\w-]+)", spool.body(spool.read(mail_dir, kept.id)))
            if found:
                return found.group(1)
    raise RuntimeError(f"no confirmation link was kept for {email} in {mail_dir}")


def _env(extra: dict[str, str], root: Path = REPO_ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMEDIARY_")}
    # The repository's own packages (or another checkout's: `bench.compare`), whichever virtualenv runs this.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _cli(env: dict[str, str], *args: str, root: Path = REPO_ROOT) -> str:
    """Run the `infomediary` command line of this checkout (not whatever is first on PATH)."""
    command = [sys.executable, "-c", "from infomediary.cli import app; app(prog_name='infomediary')", *args]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"infomediary {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def _server(
    app: str, env: dict[str, str], log: IO[str], *, factory: bool, root: Path = REPO_ROOT
) -> Iterator[Server]:
    """Start uvicorn on a free loopback port; yield its base URL; always stop it."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", *(["--factory"] if factory else [])]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)
    try:
        yield Server(f"http://{HOST}:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def _wait_ready(client: httpx.AsyncClient, url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {STARTUP_TIMEOUT_S:.0f}s")


async def _token(client: httpx.AsyncClient, base: str, client_id: str, client_secret: str) -> str:
    response = await client.post(
        f"{base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
    )
    if response.status_code != 200:
        raise RuntimeError(f"/oauth/token answered {response.status_code}: {response.text}")
    token: str = response.json()["access_token"]
    return token


async def _load(clients: list[httpx.AsyncClient], target: Target, seconds: float) -> Sample:
    """Keep one request per client in flight for `seconds`; every answer but a 200 counts as an error."""
    sample = Sample()
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await client.get(target.url, headers=target.headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            sample.latencies.append(time.perf_counter() - started)
            sample.requests += 1
            sample.errors += not ok

    cpu_before = _cpu_seconds(target.pid)
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    sample.seconds = time.perf_counter() - started
    sample.client_cpu_seconds = time.process_time() - client_before
    cpu_after = _cpu_seconds(target.pid)
    if cpu_before is not None and cpu_after is not None:
        sample.cpu_seconds = cpu_after - cpu_before
    return sample


def _merge(into: Sample, more: Sample) -> None:
    into.requests += more.requests
    into.errors += more.errors
    into.seconds += more.seconds
    into.latencies.extend(more.latencies)
    into.client_cpu_seconds += more.client_cpu_seconds
    if more.cpu_seconds is not None:
        into.cpu_seconds = (into.cpu_seconds or 0.0) + more.cpu_seconds


async def _measure(
    targets: list[Target], *, duration: float, rounds: int, warmup: float, concurrency: int
) -> dict[str, Sample]:
    # One client per connection rather than one pool of `concurrency` connections: httpx's shared pool costs
    # the client several milliseconds of CPU per request at 32 connections (measured here), which made the
    # client, not the servers, the bottleneck and squeezed the ratio towards 1.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    results = {t.name: Sample() for t in targets}
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=10.0))
            for _ in range(concurrency)
        ]
        for target in targets:
            await _load(clients, target, warmup)
        for _ in range(rounds):
            for target in targets:
                _merge(results[target.name], await _load(clients, target, duration / rounds))
    return results


async def _prepare(
    real: Server, bare: Server, baselines: dict[str, Server], client_id: str, client_secret: str
) -> list[Target]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        await _wait_ready(client, f"{real.base}/healthz")
        await _wait_ready(client, f"{bare.base}/bare")
        for baseline in baselines.values():
            await _wait_ready(client, f"{baseline.base}/healthz")
        token = await _token(client, real.base, client_id, client_secret)
        headers = {"Authorization": f"Bearer {token}"}
        # Fail before measuring if the real route does not answer 200: a benchmark of 401s means nothing.
        probe = await client.get(f"{real.base}/v1/supplier", headers=headers)
        if probe.status_code != 200:
            raise RuntimeError(f"GET /v1/supplier answered {probe.status_code}: {probe.text}")
        # A baseline compares only if it reads what the service reads: the same body, to the byte.
        for name, baseline in baselines.items():
            answer = await client.get(f"{baseline.base}/v1/supplier", headers=headers)
            if answer.status_code != 200 or answer.content != probe.content:
                raise RuntimeError(
                    f"the {LABELS[name]} baseline answered {answer.status_code} {answer.text}, "
                    f"the service {probe.text}"
                )
    return [
        Target("bare", f"{bare.base}/bare", {}, bare.pid),
        *(Target(name, f"{b.base}/v1/supplier", headers, b.pid) for name, b in baselines.items()),
        Target("real", f"{real.base}/v1/supplier", headers, real.pid),
    ]


def _run_async(coroutine: Any) -> Any:
    # The client is Python too and shares the 2 cores with both servers: uvloop (installed with
    # uvicorn[standard]) keeps its own overhead, and so its bias towards the faster server, smaller.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _report(results: dict[str, Sample], database: str, concurrency: int) -> tuple[float, float | None]:
    """Print the figures; answer the req/s ratio real / bare and, with the asyncpg baseline measured, the
    server-CPU ratio service / raw asyncpg (None without it)."""
    bare, real = results["bare"], results["real"]
    ratio = real.rps / bare.rps if bare.rps else 0.0
    table = Table(
        title=f"real: authenticated GET /v1/supplier, bare: a FastAPI route ({database}, {concurrency} conns)"
    )
    for column in ("server", "requests", "errors", "req/s", "p50 ms", "p95 ms", "CPU µs/req"):
        table.add_column(column, justify="left" if column == "server" else "right")
    for label, sample in results.items():
        cpu = sample.cpu_us_per_request
        table.add_row(
            label,
            str(sample.requests),
            str(sample.errors),
            f"{sample.rps:,.0f}",
            _ms(sample.percentile(50)),
            _ms(sample.percentile(95)),
            "n/a" if cpu is None else f"{cpu:,.0f}",
        )
    console.print(table)
    verdict = "[green]met[/]" if ratio >= GOAL else "[red]NOT met[/]"
    console.print(f"ratio real/bare: [bold]{ratio:.3f}[/] (goal >= {GOAL}: {verdict})")
    if bare.cpu_us_per_request and real.cpu_us_per_request:
        # The client shares the machine's cores with the servers and can be the bottleneck for the bare
        # route, which flatters the ratio; server CPU per request is what each server would sustain alone.
        console.print(
            f"server-CPU ratio bare/real: {bare.cpu_us_per_request / real.cpu_us_per_request:.3f} "
            "(the ratio if both were CPU-bound and the client cost nothing)"
        )
        client_us = bare.client_cpu_seconds / bare.requests * 1e6 if bare.requests else 0.0
        if client_us > bare.cpu_us_per_request:
            console.print(
                f"[yellow]note:[/] the client spent {client_us:,.0f} µs CPU per bare request, more than the "
                "bare server: the bare figure is client-bound and the req/s ratio overstates the service"
            )
    return ratio, _report_db_baselines(results, database)


def _report_db_baselines(results: dict[str, Sample], database: str) -> float | None:
    """Server CPU per request of the bare route, the database baselines and the service; the goal's ratio."""
    if "asyncpg" not in results:
        return None
    cpu = {name: sample.cpu_us_per_request for name, sample in results.items()}
    shown = ", ".join(
        f"{LABELS[name]} {'n/a' if cpu[name] is None else f'{cpu[name]:,.0f} µs'}"
        for name in ("bare", *(key for key, _, _ in DB_BASELINES), "real")
        if name in cpu
    )
    console.print(f"server CPU per request ({database}, GET /v1/supplier): {shown}")
    raw, real = cpu["asyncpg"], cpu["real"]
    if not raw or real is None:
        console.print("[yellow]no server CPU figures here (/proc): no ratio to the asyncpg baseline[/]")
        return None
    ratio = real / raw
    verdict = "[green]met[/]" if ratio <= CPU_GOAL else "[red]MISSED[/]"
    console.print(
        f"server-CPU ratio service/raw asyncpg: [bold]{ratio:.2f}[/] (goal <= {CPU_GOAL}: {verdict})"
    )
    core = cpu.get("sa_async")
    if core is not None:
        console.print(
            f"server-CPU ratio SA async Core/raw asyncpg: {core / raw:.2f}, service/SA async Core: "
            f"{real / core:.2f}"
        )
    return ratio


def _database_label(url: str | None) -> str:
    if not url:
        return "SQLite"
    return url.split("+", 1)[0].split(":", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL of an empty database (default: SQLite)")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per server (max 20)")
    parser.add_argument("--warmup", type=float, default=1.5, help="warm-up seconds per server")
    parser.add_argument("--rounds", type=int, default=4, help="alternations between the servers")
    parser.add_argument("--concurrency", type=int, default=32, help="connections kept busy")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument(
        "--no-db-baselines",
        action="store_true",
        help="on PostgreSQL, skip the asyncpg and SQLAlchemy async Core baselines",
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:.0f}]")
    if args.rounds < 1 or args.concurrency < 1 or not 0 <= args.warmup <= 5:
        parser.error("--rounds and --concurrency must be >= 1, --warmup in [0, 5]")

    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-http-")))
        settings = {"INFOMEDIARY_DATA_DIR": str(data_dir), "INFOMEDIARY_LOG_LEVEL": "WARNING"}
        if args.database_url:
            settings["INFOMEDIARY_DATABASE_URL"] = args.database_url
        env = _env(settings)
        database = _database_label(args.database_url)
        baselines = [] if args.no_db_baselines or database != "postgresql" else list(DB_BASELINES)
        if database != "postgresql" and not args.no_db_baselines:
            console.print("database baselines (raw asyncpg, SA async Core): PostgreSQL only, skipped")
        logs = {which: data_dir / f"{which}.log" for which in ("real", "bare", *(b[0] for b in baselines))}
        try:
            _cli(env, "init")
            # A random name: a reused PostgreSQL database may already hold an earlier run's supplier.
            name = f"bench-{secrets.token_hex(4)}"
            credentials = json.loads(
                _cli(env, "suppliers", "add", name, "--scope", "audiences:read", "--json").splitlines()[-1]
            )
            real_log = stack.enter_context(logs["real"].open("w"))
            bare_log = stack.enter_context(logs["bare"].open("w"))
            real = stack.enter_context(_server("api.app:create_app", env, real_log, factory=True))
            bare = stack.enter_context(_server("bench.bare_app:app", _env({}), bare_log, factory=False))
            # The database baselines read the service's database and key directory: the same environment.
            started = {
                name: stack.enter_context(
                    _server(factory, env, stack.enter_context(logs[name].open("w")), factory=True)
                )
                for name, factory, _ in baselines
            }
            targets = _run_async(
                _prepare(real, bare, started, credentials["client_id"], credentials["client_secret"])
            )
            results: dict[str, Sample] = _run_async(
                _measure(
                    targets,
                    duration=args.duration,
                    rounds=args.rounds,
                    warmup=args.warmup,
                    concurrency=args.concurrency,
                )
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            console.print(f"[bold red]bench.http failed:[/] {exc}")
            for which, path in logs.items():
                if path.exists() and path.stat().st_size:
                    console.print(f"--- {which} server log ---\n{path.read_text()[-4000:]}", markup=False)
            return 1

    ratio, cpu_ratio = _report(results, database, args.concurrency)
    if args.json:
        summary = {
            name: {
                "rps": round(s.rps, 1),
                "p50_ms": round(s.percentile(50) * 1000, 3),
                "p95_ms": round(s.percentile(95) * 1000, 3),
                "requests": s.requests,
                "errors": s.errors,
                "cpu_us_per_request": None if s.cpu_us_per_request is None else round(s.cpu_us_per_request),
            }
            for name, s in results.items()
        }
        figures: dict[str, Any] = {"benchmark": "http", "ratio": round(ratio, 4), "goal": GOAL}
        if cpu_ratio is not None:
            figures |= {"cpu_ratio_real_asyncpg": round(cpu_ratio, 3), "cpu_goal": CPU_GOAL}
        print(json.dumps({**figures, **summary}))
    errors = sum(s.errors for s in results.values())
    if errors:
        console.print(f"[bold red]{errors} requests did not answer 200:[/] the figures are not valid")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
