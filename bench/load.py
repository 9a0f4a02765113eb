"""Load: a realistic mix of consumers, suppliers and auditors against the service and a bare app, in one run.

    python -m bench.load [--database-url URL] [--rate RPS] [--duration SECONDS] [--population N]
                         [--workers N] [--no-rotate] [--out DIR] [--per-route]

Seeds a population with `infomediary demo`, registers consumers who log in through the API, gives the demo
supplier a catalog (trained on with `infomediary recommend train`, as a periodic job would) and a few offers,
then drives a mix of routes (consumers reading and editing profiles and consents, suppliers counting
audiences, taking slices, reading recommendations for their pseudonyms and their offers' statistics, auditors
fetching tree heads and proofs) in two phases:

1. **Open loop at `--rate`** (default 500 requests per second, Poisson arrivals): latency is measured from
   each request's scheduled start, so a server that falls behind is charged for the queue it builds (no
   coordinated omission). Key rotation (`infomediary keys rotate`) runs in the middle of this phase against
   the same database; every non-2xx answer or transport error counts as an error. Goal on PostgreSQL: the
   offered rate is served with p95 <= 100 ms and no errors.
2. **Closed loop** (`--concurrency` requests always in flight): the most the server can do with this mix,
   next to a bare FastAPI app that serves the same routes with fixed bodies (`bench/bare_load_app.py`) on the
   same uvicorn options, in the same run. The throughput ratio and the server CPU per request show what the
   product's work (authentication, consent decisions, encryption, the policy log, the database) costs.

With `--per-route`, instead of the two phases, each route of the mix runs alone in a closed loop for
`--duration` seconds: its server and PostgreSQL CPU per request, and its share of the mix's CPU (weight
times cost), the routes to make cheaper first.

Prints a table per route and writes `load-<database>.json`, `.md` and `.png` (latency percentiles per route)
to `--out` (default `var/bench/`). The run stops by itself; nothing listens beyond loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine

from bench.http import (
    REPO_ROOT,
    Server,
    _cli,
    _cpu_seconds,
    _env,
    _server,
    _token,
    _wait_ready,
    mailed_token,
)
from infomediary.profiles.synthetic import CATALOG_SIZE

GOAL_RATE = 500.0
GOAL_P95_MS = 100.0
MAX_DURATION_S = 120.0
# Beyond this the open loop refuses a request instead of queueing forever: an error ("overloaded") with no
# latency, so the percentiles describe the requests sent and the error count the rest.
MAX_IN_FLIGHT = 256
# The service's settings under load (`bench.compare` serves with them too).
LOAD_SETTINGS = {
    "INFOMEDIARY_LOG_LEVEL": "WARNING",
    # Load is not abuse: a budget no mix of 24 predicates exhausts, so every count is answered (cached after
    # its first answer, as in production), and no differencing check, since on a population of a few hundred
    # almost any two of the 24 differ by fewer than k (bench.broker measures the check at scale).
    "INFOMEDIARY_AUDIENCE_EPSILON_BUDGET": "100000",
    "INFOMEDIARY_AUDIENCE_DIFFERENCING_WINDOW": "0",
    # The same for the floor under an offer's audience: the mix's offers go to a few dozen customers each.
    "INFOMEDIARY_AUDIENCE_MIN_COHORT": "0",
    "INFOMEDIARY_SUPPLIER_CREDIT_LINE": "1000000000",
    "INFOMEDIARY_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
    # Every simulated client shares the loopback address: the per-address limits of the public routes would
    # otherwise meter the whole benchmark as one abusive client.
    "INFOMEDIARY_RATE_LIMIT_LOGIN": "1000000",
    "INFOMEDIARY_RATE_LIMIT_REGISTRATION": "1000000",
    "INFOMEDIARY_RATE_LIMIT_TOKEN": "1000000",
}
PASSWORD = "load-test password 1"

console = Console()

OCCUPATIONS = ["engineer", "teacher", "nurse", "designer", "farmer", "writer", "chef", "pilot"]
INTERESTS = ["books", "hiking", "cycling", "cooking", "music", "travel", "gaming", "gardening"]
POLICY = {
    "purposes": ["marketing", "personalisation"],
    "categories": ["demographics", "interests", "purchases", "activity", "contact"],
}
# The demo population's activity names items "sku:00001" to "sku:00500" (`infomediary.profiles.synthetic`):
# the supplier's catalog is those items, so the customers' histories meet it.
CATALOG = [
    {
        "id": f"sku:{rank:05d}",
        "title": f"Item {rank}",
        "categories": [INTERESTS[rank % len(INTERESTS)]],
        "price": 500 + 37 * rank % 9500,
        "currency": "EUR",
    }
    for rank in range(1, CATALOG_SIZE + 1)
]
# Demo customers known to the supplier by their stable pseudonyms, whom the recommendation reads pick from
# (the consumers who log in hand theirs to the supplier besides).
KNOWN_DEMO_CUSTOMERS = 48
# Offers whose statistics the supplier reads: open ones, one that expires in the warm-up (its first read
# settles it, refunding its budget) and one that expires midway through the open loop.
OPEN_OFFERS = 2
SOON = 2.0


@dataclass(frozen=True)
class Call:
    """One request of the mix; `route` is the label results are grouped by (method and route template)."""

    route: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class Actors:
    consumers: list[dict[str, str]]
    supplier: dict[str, str]
    supplier_id: str
    auditor: dict[str, str]
    tree_size: int
    predicates: list[dict[str, Any]]
    pseudonyms: list[str]  # the supplier's pseudonyms of customers who may be recommended to (by default)
    offers: list[str]  # the supplier's offers, open and expired


@dataclass
class RouteStats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    routes: dict[str, RouteStats] = field(default_factory=dict)
    cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None  # the load generator's own CPU (it shares the machine's cores)
    database_cpu_seconds: float | None = None  # local PostgreSQL's, likewise

    def refuse(self, route: str) -> None:
        """A request the generator did not send (too many in flight): an error, with no latency to count."""
        self.routes.setdefault(route, RouteStats()).statuses["overloaded"] += 1

    def record(self, route: str, status: str, latency: float) -> None:
        stats = self.routes.setdefault(route, RouteStats())
        stats.statuses[status] += 1
        stats.latencies.append(latency)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.routes.values())

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.routes.values())

    @property
    def answered_rps(self) -> float:
        """Requests per second that got a 2xx answer (the rest failed or were refused as overload)."""
        answered = self.requests - self.errors
        return answered / self.seconds if self.seconds else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        merged = RouteStats(latencies=[x for s in self.routes.values() for x in s.latencies])
        return merged.percentile(p)

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1e3


# The mix: (weight, how to make the call). Weights sum to 100, so each reads as a percentage.
def _mix() -> list[tuple[int, Callable[[Actors, random.Random], Call]]]:
    def consumer(actors: Actors, rng: random.Random) -> dict[str, str]:
        return rng.choice(actors.consumers)

    def profile_read(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/me/profile", "GET", "/v1/me/profile", consumer(a, rng))

    def profile_edit(a: Actors, rng: random.Random) -> Call:
        body = {"occupation": rng.choice(OCCUPATIONS), "interests": rng.sample(INTERESTS, 2)}
        return Call("PATCH /v1/me/profile", "PATCH", "/v1/me/profile", consumer(a, rng), body)

    def consents_read(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/me/consents", "GET", "/v1/me/consents", consumer(a, rng))

    def consent_answer(a: Actors, rng: random.Random) -> Call:
        body = {
            "supplier_id": a.supplier_id,
            "purpose": "marketing",
            "category": rng.choice(["interests", "purchases", "activity"]),
            "decision": "grant",  # a given consent cannot become refused: customers withdraw it instead
        }
        return Call("POST /v1/me/consents", "POST", "/v1/me/consents", consumer(a, rng), body)

    def withdraw_all(a: Actors, rng: random.Random) -> Call:
        path = "/v1/me/consents/withdraw-all"
        return Call(f"POST {path}", "POST", path, consumer(a, rng))

    def my_log(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/me/log", "GET", "/v1/me/log?limit=20", consumer(a, rng))

    def my_offers(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/me/offers", "GET", "/v1/me/offers", consumer(a, rng))

    def supplier_record(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/supplier", "GET", "/v1/supplier", a.supplier)

    def audience_count(a: Actors, rng: random.Random) -> Call:
        body = {"purpose": "marketing", "predicate": rng.choice(a.predicates)}
        return Call("POST /v1/audiences/count", "POST", "/v1/audiences/count", a.supplier, body)

    def slice_take(a: Actors, rng: random.Random) -> Call:
        headers = {**a.supplier, "Idempotency-Key": secrets.token_hex(16)}
        body = {"purpose": "marketing", "fields": ["birth_date", "postal_code", "interests"]}
        return Call("POST /v1/slices", "POST", "/v1/slices", headers, body)

    def recommendations(a: Actors, rng: random.Random) -> Call:
        # A read that writes: the personalisation decisions and the release go to the policy log.
        path = f"/v1/recommendations/{rng.choice(a.pseudonyms)}"
        return Call("GET /v1/recommendations/{pseudonym}", "GET", path, a.supplier)

    def offer_read(a: Actors, rng: random.Random) -> Call:
        # A read that writes: a fresh noisy draw when the figures changed, the refund of an expired offer.
        path = f"/v1/offers/{rng.choice(a.offers)}"
        return Call("GET /v1/offers/{offer_id}", "GET", path, a.supplier)

    def tree_head(a: Actors, rng: random.Random) -> Call:
        return Call("GET /v1/audit/tree-head", "GET", "/v1/audit/tree-head", a.auditor)

    def inclusion(a: Actors, rng: random.Random) -> Call:
        leaf = rng.randrange(a.tree_size)
        path = f"/v1/audit/proofs/inclusion?leaf_index={leaf}&tree_size={a.tree_size}"
        return Call("GET /v1/audit/proofs/inclusion", "GET", path, a.auditor)

    def consistency(a: Actors, rng: random.Random) -> Call:
        first = rng.randrange(1, a.tree_size + 1)
        path = f"/v1/audit/proofs/consistency?first={first}&second={a.tree_size}"
        return Call("GET /v1/audit/proofs/consistency", "GET", path, a.auditor)

    return [
        (15, profile_read),
        (8, profile_edit),
        (7, consents_read),
        (5, consent_answer),
        (1, withdraw_all),
        (4, my_log),
        (5, my_offers),
        (8, supplier_record),
        (15, audience_count),
        (1, slice_take),
        (6, recommendations),
        (4, offer_read),
        (8, tree_head),
        (8, inclusion),
        (5, consistency),
    ]


MIX = _mix()


def sample_calls() -> list[Call]:
    """One call of each kind in the mix (for checks that every route was exercised)."""
    actors = Actors([{}], {}, "sup_sample", {}, 1, [{}], ["pseudonym_sample"], ["off_sample"])
    return [maker(actors, random.Random(0)) for _, maker in MIX]


def _pick(actors: Actors, rng: random.Random) -> Call:
    weights = [w for w, _ in MIX]
    [(_, maker)] = rng.choices(MIX, weights=weights)
    return maker(actors, rng)


async def _send(client: aiohttp.ClientSession, base: str, call: Call) -> str:
    try:
        async with client.request(
            call.method, base + call.path, headers=call.headers, json=call.body
        ) as response:
            await response.read()
            return str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__


def _load_client() -> aiohttp.ClientSession:
    """The client of the measured phases: aiohttp, because the load generator shares the server's cores.

    httpx (which the setup uses) spent 1.5 ms of CPU per request here against aiohttp's 0.09 ms: at 300
    requests per second it took half a core from the server it measured, and capped the bare app near
    600 requests per second, so the "ratio" compared the service with the client.
    """
    # Idle connections are let go after 2 s, before uvicorn closes them (its keep-alive is 5 s): aiohttp keeps
    # them 15 s by default, and a request sent on a connection the server was closing failed with
    # ClientOSError, once, in a CI run (a race of the client's, not an error of the service).
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=MAX_IN_FLIGHT, keepalive_timeout=2.0)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30.0))


async def open_loop(
    client: aiohttp.ClientSession, base: str, actors: Actors, rate: float, seconds: float, seed: int
) -> Phase:
    """Poisson arrivals at `rate`; each latency counts from the request's scheduled start."""
    rng = random.Random(seed)
    phase = Phase("open loop")
    tasks: set[asyncio.Task[None]] = set()

    async def one(call: Call, scheduled: float) -> None:
        status = await _send(client, base, call)
        phase.record(call.route, status, time.perf_counter() - scheduled)

    started = time.perf_counter()
    scheduled = started
    while scheduled - started < seconds:
        scheduled += rng.expovariate(rate)
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        call = _pick(actors, rng)
        if len(tasks) >= MAX_IN_FLIGHT:
            phase.refuse(call.route)
            continue
        task = asyncio.create_task(one(call, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - started
    return phase


async def closed_loop(
    client: aiohttp.ClientSession,
    base: str,
    actors: Actors,
    concurrency: int,
    seconds: float,
    seed: int,
    make: Callable[[Actors, random.Random], Call] = _pick,
) -> Phase:
    """`concurrency` requests always in flight for `seconds`: the throughput the server sustains. Calls are
    drawn from the mix, or made by `make` alone (one route: `--per-route`, `bench.compare`)."""
    phase = Phase("closed loop")
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        while time.perf_counter() < deadline:
            call = make(actors, rng)
            began = time.perf_counter()
            status = await _send(client, base, call)
            phase.record(call.route, status, time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    phase.seconds = time.perf_counter() - started
    return phase


async def _measure_cpu(pid: int, run: Callable[[], Any]) -> Phase:
    before, client_before, database_before = _cpu_seconds(pid), time.process_time(), _postgres_cpu_seconds()
    phase: Phase = await run()
    after = _cpu_seconds(pid)
    phase.client_cpu_seconds = time.process_time() - client_before
    if before is not None and after is not None:
        phase.cpu_seconds = after - before
    database_after = _postgres_cpu_seconds()
    if database_before and database_after:
        phase.database_cpu_seconds = database_after - database_before
    return phase


def _postgres_cpu_seconds() -> float | None:
    """CPU time of this machine's PostgreSQL processes (the server under load shares their cores); None
    where there is no /proc or no local PostgreSQL. Backends that exit in between take their time along."""
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" not in text:
            continue
        fields = text.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found = True
    return total if found else None


def _predicates(dimensions: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Distinct two- and three-condition predicates over the allow-listed dimensions with finite domains."""
    usable = [d for d in dimensions if d["values"]]
    found: dict[str, dict[str, Any]] = {}
    while len(found) < count:
        chosen = rng.sample(usable, rng.choice([2, 3]))
        conditions = [{"eq": [d["key"], rng.choice(d["values"])]} for d in chosen]
        predicate = {"and": conditions}
        found[json.dumps(predicate, sort_keys=True)] = predicate
    return list(found.values())


async def _prepare(
    client: httpx.AsyncClient,
    base: str,
    demo: dict[str, Any],
    consumers: int,
    *,
    env: dict[str, str],
    expire_after: float,
    root: Path = REPO_ROOT,
) -> Actors:
    """Everyone the mix needs, through the public API (and the recommender's training job, run from the
    checkout at `root`, the server's).

    The demo supplier holds every supplier scope (`infomediary demo`), and a client-credentials token asked
    without a scope carries them all. Its policy declares personalisation over activity and purchases, which
    customers allow by default (opt-out): nobody in the mix refuses or withdraws a personalisation consent
    (`withdraw-all` withdraws only the marketing grants the mix gives), so every recommendation is permitted.
    """
    supplier_token = await _token(
        client, base, demo["supplier"]["client_id"], demo["supplier"]["client_secret"]
    )
    auditor_token = await _token(client, base, demo["auditor"]["client_id"], demo["auditor"]["client_secret"])
    supplier = {"Authorization": f"Bearer {supplier_token}"}
    auditor = {"Authorization": f"Bearer {auditor_token}"}
    supplier_id = demo["supplier"]["id"]
    published = await client.put(f"{base}/v1/supplier/policy", json=POLICY, headers=supplier)
    published.raise_for_status()
    uploaded = await client.put(f"{base}/v1/catalog", json={"items": CATALOG}, headers=supplier)
    uploaded.raise_for_status()

    async def register(index: int) -> tuple[dict[str, str], str]:
        email = f"load-{index}-{secrets.token_hex(3)}@example.org"
        credentials = {"email": email, "password": PASSWORD}
        registered = await client.post(f"{base}/v1/accounts", json=credentials)
        registered.raise_for_status()
        if registered.status_code == 202:
            # The address is confirmed by the link mailed to it (kept in the data directory: no relay). A
            # server from before confirmation existed (`bench.compare`) answered 201 and needs none.
            token = mailed_token(Path(env["INFOMEDIARY_DATA_DIR"]) / "mail", email)
            (await client.post(f"{base}/v1/accounts/verify", json={"token": token})).raise_for_status()
        login = await client.post(f"{base}/v1/session", json=credentials)
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        profile = {"given_name": f"Load{index}", "birth_date": "1985-04-02", "postal_code": "75011"}
        (await client.patch(f"{base}/v1/me/profile", json=profile, headers=headers)).raise_for_status()
        # Some browsing of the catalog, for the recommender to learn from and rank against.
        at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        items = random.Random(index).sample(CATALOG[:60], 5)
        records = [{"kind": "view", "item": item["id"], "occurred_at": at} for item in items]
        viewed = await client.post(f"{base}/v1/me/activity", json={"records": records}, headers=headers)
        viewed.raise_for_status()
        issued = await client.post(
            f"{base}/v1/me/pseudonyms", json={"supplier_id": supplier_id}, headers=headers
        )
        issued.raise_for_status()
        return headers, str(issued.json()["pseudonym"])

    # A few at a time: each login is an argon2id hash, which is meant to be slow.
    people: list[tuple[dict[str, str], str]] = []
    for start in range(0, consumers, 4):
        people += await asyncio.gather(*(register(i) for i in range(start, min(start + 4, consumers))))

    rng = random.Random(11)
    # Demo customers the supplier knows by their stable pseudonyms (recommendations are only for those).
    known = await asyncio.to_thread(_introduce, env, supplier_id, KNOWN_DEMO_CUSTOMERS, root)
    pseudonyms = [p for _, p in people] + known
    if not pseudonyms:
        raise RuntimeError("no pseudonym to ask recommendations for")

    # The periodic training job (cron in production), on the histories and consents as they now stand.
    await asyncio.to_thread(_train_recommender, env, supplier_id, root)

    dimensions = (await client.get(f"{base}/v1/audiences/dimensions", headers=supplier)).json()["dimensions"]
    offers = await _send_offers(client, base, supplier, dimensions, rng, expire_after)
    head = (await client.get(f"{base}/v1/audit/tree-head", headers=auditor)).json()
    return Actors(
        consumers=[headers for headers, _ in people],
        supplier=supplier,
        supplier_id=supplier_id,
        auditor=auditor,
        tree_size=int(head["tree_size"]),
        predicates=_predicates(dimensions, 24, rng),
        pseudonyms=pseudonyms,
        offers=offers,
    )


def _analyze(database_url: str) -> None:
    """Planner statistics for the prepared world, as autovacuum would gather them after the setup's writes.

    The PostgreSQL of the benchmark machine runs with autovacuum off, so no table is ever analyzed on its
    own. Request connections keep their prepared statements' generic plans, and a plan made while the
    policy log had a few hundred nodes stayed a hash join over a sequential scan of the whole node table
    as it grew to tens of thousands: measured, some 3,400 full scans per run and 4-7 ms of PostgreSQL CPU
    per recommendation instead of 3. A deployment with autovacuum on re-plans after each automatic ANALYZE.
    """
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            autovacuum = connection.exec_driver_sql("SHOW autovacuum").scalar()
            if autovacuum != "on":
                console.print("[yellow]PostgreSQL runs with autovacuum off: analyzing the prepared world[/]")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    finally:
        engine.dispose()


async def _send_offers(
    client: httpx.AsyncClient,
    base: str,
    supplier: dict[str, str],
    dimensions: list[dict[str, Any]],
    rng: random.Random,
    expire_after: float,
) -> list[str]:
    """Offers to single-condition audiences: `OPEN_OFFERS` open for a week, one expiring in `SOON` seconds
    (settled by its first read, in the warm-up) and one in `expire_after` (settled under the measured load).
    """
    usable = [d for d in dimensions if d["values"] and d["category"] in POLICY["categories"]]
    week = 7 * 24 * 3600.0
    sent: list[str] = []
    for lifetime in [week] * OPEN_OFFERS + [SOON, expire_after]:
        dimension = rng.choice(usable)
        body = {
            "content": f"Load offer {len(sent) + 1}: 10% off orders over 50 EUR",
            "purpose": "marketing",
            "predicate": {"eq": [dimension["key"], rng.choice(dimension["values"])]},
            "reward_per_view": 1,
            "reward_per_acceptance": 5,
            "budget_cap": 10_000,
            "rule": {"min_order_amount": 5000, "currency": "EUR", "discount_percent": 10},
            "expires_at": (datetime.now(UTC) + timedelta(seconds=lifetime)).isoformat(),
        }
        headers = {**supplier, "Idempotency-Key": secrets.token_hex(16)}
        response = await client.post(f"{base}/v1/offers", json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/offers answered {response.status_code}: {response.text}")
        sent.append(str(response.json()["id"]))
    return sent


def _introduce(env: dict[str, str], supplier_id: str, count: int, root: Path = REPO_ROOT) -> list[str]:
    """`count` demo customers' stable pseudonyms for the supplier (`bench.introduce`).

    This checkout's script, run on the package at `root` (`bench.compare` serves an older commit there,
    whose bench may predate the script): only services every version has.
    """
    # The script's text, run with `-c` in `root`: its imports resolve to the package there, and nothing of
    # this checkout's bench/ (whose vault.py and http.py would shadow real modules) is on the path.
    script = (REPO_ROOT / "bench" / "introduce.py").read_text()
    command = [sys.executable, "-c", script, supplier_id, str(count)]
    done = subprocess.run(
        command,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.introduce failed:\n{done.stdout}{done.stderr}")
    return [str(p) for p in json.loads(done.stdout)]


def _train_recommender(env: dict[str, str], supplier_id: str, root: Path = REPO_ROOT) -> None:
    """`infomediary recommend train` for the supplier; its own timeout, as it grows with the population."""
    command = [sys.executable, "-c", "from infomediary.cli import app; app(prog_name='infomediary')"]
    command += ["recommend", "train", "--supplier", supplier_id]
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"infomediary recommend train failed:\n{done.stdout}{done.stderr}")


def _rotate_keys(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from infomediary.cli import app; app(prog_name='infomediary')"]
    return subprocess.Popen([*command, "keys", "rotate"], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)


def _route_table(title: str, phase: Phase) -> Table:
    table = Table(title=title)
    for column in ("route", "requests", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "statuses"):
        table.add_column(column, justify="left" if column in {"route", "statuses"} else "right")
    for route in sorted(phase.routes):
        stats = phase.routes[route]
        table.add_row(
            route,
            str(stats.requests),
            f"{stats.requests / phase.seconds:.1f}",
            str(stats.errors),
            f"{stats.percentile(50) * 1e3:.1f}",
            f"{stats.percentile(95) * 1e3:.1f}",
            f"{stats.percentile(99) * 1e3:.1f}",
            " ".join(f"{k}x{v}" for k, v in sorted(stats.statuses.items())),
        )
    table.add_row(
        "all",
        str(phase.requests),
        f"{phase.rps:.1f}",
        str(phase.errors),
        f"{phase.percentile(50) * 1e3:.1f}",
        f"{phase.percentile(95) * 1e3:.1f}",
        f"{phase.percentile(99) * 1e3:.1f}",
        "",
        style="bold",
    )
    return table


def _markdown(phase: Phase) -> str:
    lines = [
        "| route | requests | req/s | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for route in sorted(phase.routes):
        s = phase.routes[route]
        lines.append(
            f"| `{route}` | {s.requests} | {s.requests / phase.seconds:.1f} | {s.errors} "
            f"| {s.percentile(50) * 1e3:.1f} | {s.percentile(95) * 1e3:.1f} | {s.percentile(99) * 1e3:.1f} |"
        )
    lines.append(
        f"| **all** | {phase.requests} | {phase.rps:.1f} | {phase.errors} | {phase.percentile(50) * 1e3:.1f} "
        f"| {phase.percentile(95) * 1e3:.1f} | {phase.percentile(99) * 1e3:.1f} |"
    )
    return "\n".join(lines)


def _plot(path: Path, title: str, real: Phase, bare: Phase) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print("[yellow]matplotlib is not installed: no plot (pip install -e '.[bench]')[/]")
        return False
    routes = sorted(real.routes)
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(routes) + 1.8))
    positions = range(len(routes))
    for offset, (p, colour) in enumerate(((50, "#4c78a8"), (95, "#f58518"), (99, "#e45756"))):
        values = [real.routes[r].percentile(p) * 1e3 for r in routes]
        ax.barh(
            [i + (offset - 1) * 0.27 for i in positions], values, height=0.27, color=colour, label=f"p{p}"
        )
    bare_p95 = [bare.routes[r].percentile(95) * 1e3 if r in bare.routes else 0.0 for r in routes]
    ax.scatter(bare_p95, list(positions), marker="|", s=200, color="black", label="bare app p95", zorder=3)
    ax.axvline(GOAL_P95_MS, color="grey", linestyle="--", linewidth=1, label=f"goal p95 {GOAL_P95_MS:.0f} ms")
    ax.set_yticks(list(positions), routes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("latency (ms)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="Run the service on this (empty) database; default SQLite.")
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="Open-loop requests per second.")
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds per phase.")
    parser.add_argument("--concurrency", type=int, default=16, help="Closed-loop requests in flight.")
    parser.add_argument("--population", type=int, default=500, help="Demo customers seeded first.")
    parser.add_argument("--consumers", type=int, default=24, help="Consumers who log in and make requests.")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn worker processes of each server (default: one per core).",
    )
    parser.add_argument("--no-rotate", action="store_true", help="Do not rotate keys during the open loop.")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "bench", help="Report directory.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--per-route",
        action="store_true",
        help="Instead of the phases: each route of the mix alone, its CPU per request and share of the mix.",
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:.0f}]")
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-load-") as data_dir,
        open(args.out / "load-servers.log", "w") as log,
    ):
        return asyncio.run(_run(args, Path(data_dir), log))


async def _run(args: argparse.Namespace, data_dir: Path, log: IO[str]) -> int:
    database = "postgresql" if args.database_url and args.database_url.startswith("postgres") else "sqlite"
    with ExitStack() as stack:
        settings = LOAD_SETTINGS | {"INFOMEDIARY_DATA_DIR": str(data_dir)}
        if args.database_url:
            settings["INFOMEDIARY_DATABASE_URL"] = args.database_url
        env = _env(settings)
        console.print(f"seeding {args.population} demo customers on {database} ...")
        _cli(env, "init")
        _cli(env, "demo", "--customers", str(args.population), "--seed", str(args.seed))
        demo = json.loads((data_dir / "demo.json").read_text())

        served = env | {"WEB_CONCURRENCY": str(args.workers)}  # the same uvicorn options for both servers
        real = stack.enter_context(_server("api.app:create_app", served, log, factory=True))
        bare = stack.enter_context(_server("bench.bare_load_app:app", served, log, factory=False))
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
        async with httpx.AsyncClient(timeout=30.0, limits=limits) as setup:
            await _wait_ready(setup, f"{real.base}/healthz")
            await _wait_ready(setup, f"{bare.base}/healthz")
            console.print(f"registering {args.consumers} consumers through the API ...")
            # The last offer expires midway through the open loop, after the warm-ups (some 4 s) below.
            expire_after = 4.0 + args.duration / 2
            actors = await _prepare(
                setup, real.base, demo, args.consumers, env=env, expire_after=expire_after
            )
        if args.database_url and database == "postgresql":
            _analyze(args.database_url)
        async with _load_client() as client:
            # Warm both servers (imports, pools, caches) outside the measured windows.
            await closed_loop(client, real.base, actors, 4, 3.0, seed=0)
            await closed_loop(client, bare.base, actors, 4, 1.0, seed=0)
            if args.per_route:
                return await _per_route(client, real, actors, args.concurrency, args.duration, args.seed)

            console.print(f"open loop: {args.rate:.0f} req/s for {args.duration:.0f} s on {database} ...")
            rotation_code: int | None = None
            if args.no_rotate:
                opened = await _measure_cpu(
                    real.pid,
                    lambda: open_loop(client, real.base, actors, args.rate, args.duration, args.seed),
                )
            else:
                rotation_code, opened = await _open_loop_with_rotation(args, env, log, client, real, actors)
            console.print(
                f"closed loop: {args.concurrency} in flight for {args.duration:.0f} s, real then bare"
            )
            real_closed = await _measure_cpu(
                real.pid,
                lambda: closed_loop(client, real.base, actors, args.concurrency, args.duration, args.seed),
            )
            bare_closed = await _measure_cpu(
                bare.pid,
                lambda: closed_loop(client, bare.base, actors, args.concurrency, args.duration, args.seed),
            )
            bare_open = await open_loop(
                client, bare.base, actors, args.rate, min(args.duration, 10.0), args.seed
            )

    return _report(args, database, opened, rotation_code, real_closed, bare_closed, bare_open)


async def _per_route(
    client: aiohttp.ClientSession, real: Server, actors: Actors, concurrency: int, seconds: float, seed: int
) -> int:
    """Each route of the mix alone in a closed loop: where the mix's CPU goes, route by route.

    A route's share is its weight times its CPU per request (server and PostgreSQL), over the mix's sum:
    the routes to make cheaper first. Errors are counted, not hidden.
    """
    table = Table(title=f"each route alone, {concurrency} in flight, {seconds:.0f} s each")
    for column in ("route", "weight %", "req/s", "errors", "server CPU ms", "PostgreSQL CPU ms", "share %"):
        table.add_column(column, justify="left" if column == "route" else "right")
    measured: list[tuple[str, int, Phase]] = []
    for weight, maker in MIX:

        async def alone(make: Callable[[Actors, random.Random], Call] = maker) -> Phase:
            return await closed_loop(client, real.base, actors, concurrency, seconds, seed, make)

        phase = await _measure_cpu(real.pid, alone)
        measured.append((maker(actors, random.Random(seed)).route, weight, phase))
    costs = {
        route: weight
        * ((_per_request_ms(p, p.cpu_seconds) or 0) + (_per_request_ms(p, p.database_cpu_seconds) or 0))
        for route, weight, p in measured
    }
    total = sum(costs.values()) or 1.0
    for route, weight, phase in sorted(measured, key=lambda m: -costs[m[0]]):
        server, database = (
            _per_request_ms(phase, phase.cpu_seconds),
            _per_request_ms(phase, phase.database_cpu_seconds),
        )
        table.add_row(
            route,
            str(weight),
            f"{phase.requests / phase.seconds:,.1f}",
            _errors(phase),
            "-" if server is None else f"{server:.2f}",
            "-" if database is None else f"{database:.2f}",
            f"{costs[route] / total * 100:.1f}",
        )
    Console(width=150).print(table)  # readable in a log too, not only in a wide terminal
    console.print(f"the mix's CPU per request (server + PostgreSQL, weighted): {total / 100:.2f} ms")
    return 1 if any(phase.errors for _, _, phase in measured) else 0


def _errors(phase: Phase) -> str:
    """The error count with its statuses, e.g. `8 (429 x8)`."""
    found: Counter[str] = Counter()
    for stats in phase.routes.values():
        found.update({status: n for status, n in stats.statuses.items() if not status.startswith("2")})
    if not found:
        return "0"
    return f"{sum(found.values())} ({', '.join(f'{status} x{n}' for status, n in found.most_common())})"


async def _open_loop_with_rotation(
    args: argparse.Namespace,
    env: dict[str, str],
    log: Any,
    client: aiohttp.ClientSession,
    real: Server,
    actors: Actors,
) -> tuple[int | None, Phase]:
    async def rotate_midway() -> int | None:
        await asyncio.sleep(args.duration / 3)
        process = _rotate_keys(env, log)
        return await asyncio.to_thread(process.wait)

    rotation = asyncio.create_task(rotate_midway())
    opened = await _measure_cpu(
        real.pid, lambda: open_loop(client, real.base, actors, args.rate, args.duration, args.seed)
    )
    return await rotation, opened


def _report(
    args: argparse.Namespace,
    database: str,
    opened: Phase,
    rotation_code: int | None,
    real_closed: Phase,
    bare_closed: Phase,
    bare_open: Phase,
) -> int:
    console.print(_route_table(f"service, open loop at {args.rate:.0f} req/s ({database})", opened))
    console.print(
        _route_table(f"service, closed loop, {args.concurrency} in flight ({database})", real_closed)
    )
    console.print(_route_table("bare app, closed loop (same routes, fixed bodies)", bare_closed))
    ratio = real_closed.rps / bare_closed.rps if bare_closed.rps else float("nan")
    real_cpu, bare_cpu = real_closed.cpu_ms_per_request, bare_closed.cpu_ms_per_request
    p95 = opened.percentile(95) * 1e3
    # Served the offered rate within the latency bound, and was the offered rate the goal's?
    held = opened.errors == 0 and p95 <= GOAL_P95_MS and opened.answered_rps >= 0.97 * args.rate
    met = held and args.rate >= GOAL_RATE
    lines = [
        f"open loop: offered {args.rate:.0f} req/s, answered {opened.answered_rps:.1f} req/s, "
        f"p50 {opened.percentile(50) * 1e3:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {opened.percentile(99) * 1e3:.1f} ms, "
        f"errors {opened.errors} of {opened.requests} "
        f"(bare app at the same rate: p95 {bare_open.percentile(95) * 1e3:.1f} ms)",
        "key rotation during the open loop: "
        + (
            "not run"
            if rotation_code is None
            else "completed"
            if rotation_code == 0
            else f"FAILED ({rotation_code})"
        ),
        f"at {args.rate:.0f} req/s offered, p95 <= {GOAL_P95_MS:.0f} ms and no errors: "
        + ("held" if held else "NOT held"),
        f"goal (>= {GOAL_RATE:.0f} req/s mixed, p95 <= {GOAL_P95_MS:.0f} ms, no errors): "
        + ("met" if met else "NOT met"),
        f"closed loop throughput: service {real_closed.rps:.1f} req/s, bare app {bare_closed.rps:.1f} req/s, "
        f"ratio service/bare {ratio:.3f}",
    ]
    if real_cpu is not None and bare_cpu is not None:
        lines.append(
            f"server CPU per request: service {real_cpu:.2f} ms, bare app {bare_cpu:.2f} ms "
            f"(x{real_cpu / bare_cpu:.1f})"
        )
    if real_closed.requests:
        shares = [
            ("load generator", real_closed.client_cpu_seconds),
            ("PostgreSQL", real_closed.database_cpu_seconds),
        ]
        measured = [f"{name} {s / real_closed.requests * 1e3:.2f} ms" for name, s in shares if s]
        if measured:
            lines.append("other CPU per service request on the same cores: " + ", ".join(measured))
    for line in lines:
        console.print(line)

    stem = args.out / f"load-{database}"
    plotted = _plot(
        stem.with_suffix(".png"),
        f"open loop at {args.rate:.0f} req/s on {database}: "
        f"answered {opened.answered_rps:.0f} req/s, p95 {p95:.0f} ms",
        opened,
        bare_open,
    )
    summary = {
        "database": database,
        "rate": args.rate,
        "duration_s": args.duration,
        "workers": args.workers,
        "open_loop": _phase_json(opened),
        "closed_loop": {"service": _phase_json(real_closed), "bare": _phase_json(bare_closed)},
        "throughput_ratio": ratio,
        "key_rotation_exit_code": rotation_code,
        "latency_bound_held": held,
        "goal_met": met,
    }
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    markdown = [
        f"# Load on {database}",
        "",
        f"Command: `python -m bench.load {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        *[f"- {line}" for line in lines],
        "",
        f"## Open loop at {args.rate:.0f} req/s",
        "",
        _markdown(opened),
        "",
        f"## Closed loop, {args.concurrency} in flight: service",
        "",
        _markdown(real_closed),
        "",
        "## Closed loop: bare app",
        "",
        _markdown(bare_closed),
        "",
    ]
    if plotted:
        markdown.insert(6, f"![latency per route]({stem.with_suffix('.png').name})\n")
    stem.with_suffix(".md").write_text("\n".join(markdown))
    console.print(f"report: {stem}.md, .json" + (", .png" if plotted else ""))
    failed_rotation = rotation_code not in (None, 0)
    return 0 if opened.errors == 0 and real_closed.errors == 0 and not failed_rotation else 1


def _rotation_outcome(code: int | None) -> str:
    if code is None:
        return "not run"
    return "completed" if code == 0 else f"FAILED (exit code {code})"


def _per_request_ms(phase: Phase, seconds: float | None) -> float | None:
    return seconds / phase.requests * 1e3 if seconds is not None and phase.requests else None


def _phase_json(phase: Phase) -> dict[str, Any]:
    return {
        "seconds": phase.seconds,
        "requests": phase.requests,
        "rps": phase.rps,
        "errors": phase.errors,
        "cpu_ms_per_request": phase.cpu_ms_per_request,
        "client_cpu_ms_per_request": _per_request_ms(phase, phase.client_cpu_seconds),
        "database_cpu_ms_per_request": _per_request_ms(phase, phase.database_cpu_seconds),
        "p50_ms": phase.percentile(50) * 1e3,
        "p95_ms": phase.percentile(95) * 1e3,
        "p99_ms": phase.percentile(99) * 1e3,
        "routes": {
            route: {
                "requests": s.requests,
                "errors": s.errors,
                "statuses": dict(s.statuses),
                "p50_ms": s.percentile(50) * 1e3,
                "p95_ms": s.percentile(95) * 1e3,
                "p99_ms": s.percentile(99) * 1e3,
            }
            for route, s in sorted(phase.routes.items())
        },
    }


if __name__ == "__main__":
    sys.exit(main())
