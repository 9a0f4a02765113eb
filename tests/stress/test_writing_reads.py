"""GET requests that write, under concurrency, through a real `infomediary serve --workers 2` (issue 15).

Some GET routes record what they do: `GET /v1/recommendations/{pseudonym}` logs its consent decisions and the
release; `GET /v1/offers/{id}` (and the supplier console's `GET /supplier/offers/{id}`, the same service)
logs the identity decisions on every read, draws fresh noise and charges the epsilon budget when the offer's
figures changed, and refunds an expired offer through the ledger. Those writes rely on the transaction's
locks: the policy log's size reservation, the stats row, the budget row and the offer row are each locked
until commit. A GET that runs in a read session (autocommit on PostgreSQL, a deferred transaction on SQLite)
loses them: on PostgreSQL concurrent appenders read frontier nodes that are not written yet, the log is left
with gaps (its stored size above its entries) and can no longer be verified, noise is drawn and epsilon
released several times for one change, and two readers both refund an expired offer (the second fails on
the ledger's unique key); on SQLite the write inside a read transaction fails with "database is locked".

This test seeds a population through the public API (consumers who consented to personalisation and hold
pseudonyms, a catalog, an identity-releasing offer they accepted, an offer that expired after a view), fires
one concurrent burst of every writing GET at two workers, then checks what must hold whatever the
interleaving: no 500, the log verifies offline and its size equals its entries after one more append, the
ledger sums to zero, the expired offer was refunded once, the epsilon released stays within the budget and
matches what was charged, and each change of an offer's figures was drawn at most once. It runs on the
suite's database: SQLite, or PostgreSQL when `INFOMEDIARY_TEST_DATABASE_URL` is set.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from api.session_cookie import SUPPLIER_OPERATOR_COOKIE
from infomediary.policylog.entry import decode_entry
from infomediary.settings import Settings
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.mail import kept_token
from tests.stress.server import Server, cli, free_port, server_env

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

PASSWORD = "writing-reads password 3"
CONSUMERS = 4
# Of the consumers, these accept the identity-releasing offer: every read of it then decides (and logs)
# once per accepting customer, before its release entry: several appends per request.
ACCEPTING = 3
DEMO_CUSTOMERS = 120
REQUESTS = 160
IN_FLIGHT = 20
# Offers are refused with an expiry in the past, so the expiring one is sent this far ahead and the burst
# waits for it to pass: every read of it in the burst then settles it. Long enough for it to be viewed first
# on a loaded machine.
EXPIRES_IN_SECONDS = 4.0
OFFER_EPSILON = 0.5
EPSILON_BUDGET = 5.0
POLICY = {
    "purposes": ["marketing", "personalisation"],
    "categories": ["identity", "contact", "demographics", "interests", "activity", "purchases"],
}
PROFILE = {
    "birth_date": "1990-05-01",
    "gender": "female",
    "postal_code": "75011",
    "interests": ["cycling"],
    "given_name": "Zelda",
    "family_name": "Quist",
}
ITEMS = [
    {
        "id": f"sku:{i}",
        "title": f"Item {i}",
        "categories": ["books" if i % 2 else "outdoor"],
        "price": 1000 + i,
        "currency": "EUR",
    }
    for i in range(12)
]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

RECOMMEND = "GET /v1/recommendations/{pseudonym}"
LIVE = "GET /v1/offers/{live}"
EXPIRED = "GET /v1/offers/{expired}"
CONSOLE = "GET /supplier/offers/{id}"


@dataclass
class Population:
    supplier_id: str
    supplier: dict[str, str]  # headers
    auditor: dict[str, str]
    console_cookie: str
    consumers: list[dict[str, str]]
    pseudonyms: list[str]
    live_offer: str
    expired_offer: str
    expires_at: datetime


@dataclass
class Answers:
    """What each route answered in the burst, and how many of those answers were faults."""

    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faults: Counter[str] = field(default_factory=Counter)

    def record(self, route: str, outcome: httpx.Response | httpx.HTTPError) -> None:
        label, fault = _judge(outcome)
        self.statuses[route][label] += 1
        if fault:
            self.faults[route] += 1


def _judge(outcome: httpx.Response | httpx.HTTPError) -> tuple[str, bool]:
    """The answer's label (its status, or the transport error) and whether it is a fault: any 5xx but a 503
    with Retry-After (an honest "try again later"), and any request the server dropped."""
    if isinstance(outcome, httpx.HTTPError):
        return type(outcome).__name__, True
    status = outcome.status_code
    shed = status == 503 and "retry-after" in outcome.headers
    return str(status), status >= 500 and not shed


_EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Violation)\b: .*")


def _server_exceptions(log: Path, most: int = 5) -> list[str]:
    """The distinct exceptions in the server's log (numbers blanked), most frequent first: why it failed."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if _EXCEPTION.match(line):
            found[re.sub(r"\b\d+\b", "N", line)[:160]] += 1
    return [message for message, _ in found.most_common(most)]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.is_success, f"{response.request.method} {response.request.url.path}: {response.text}"
    return response


def _token(client: httpx.Client, credentials: dict[str, Any]) -> dict[str, str]:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    return _bearer(_ok(response).json()["access_token"])


def _consumer(client: httpx.Client, n: int, supplier_id: str, mail_dir: Path) -> tuple[dict[str, str], str]:
    """A consumer who viewed catalog items, switched personalisation on and gave the supplier a pseudonym."""
    credentials = {"email": f"reader-{n}-{secrets.token_hex(3)}@example.org", "password": PASSWORD}
    _ok(client.post("/v1/accounts", json=credentials))
    token = kept_token(mail_dir, credentials["email"], "/verify-email")
    _ok(client.post("/v1/accounts/verify", json={"token": token}))
    headers = _bearer(_ok(client.post("/v1/session", json=credentials)).json()["access_token"])
    # The login also set a session cookie; the API calls here authenticate with the bearer token alone.
    client.cookies.clear()
    _ok(client.patch("/v1/me/profile", json=PROFILE, headers=headers))
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    views = [{"kind": "view", "item": f"sku:{(n + k) % len(ITEMS)}", "occurred_at": at} for k in range(4)]
    _ok(client.post("/v1/me/activity", json={"records": views}, headers=headers))
    switch = {"enabled": True}
    _ok(client.put(f"/v1/me/recommendations/personalisation/{supplier_id}", json=switch, headers=headers))
    issued = client.post("/v1/me/pseudonyms", json={"supplier_id": supplier_id}, headers=headers)
    return headers, str(_ok(issued).json()["pseudonym"])


def _send_offer(client: httpx.Client, supplier: dict[str, str], expires_at: datetime, **extra: Any) -> str:
    body = {
        "content": "Spring sale on city bikes",
        "purpose": "marketing",
        "predicate": {"eq": ["gender", "female"]},
        "reward_per_view": 2,
        "reward_per_acceptance": 10,
        "budget_cap": 1000,
        "expires_at": expires_at.isoformat(),
        **extra,
    }
    headers = {**supplier, "Idempotency-Key": secrets.token_hex(8)}
    return str(_ok(client.post("/v1/offers", json=body, headers=headers)).json()["id"])


def _console_cookie(server: Server, login: str, password: str) -> str:
    """Sign the demo's supplier operator in through the console's log-in form, as a browser would."""
    with httpx.Client(base_url=server.url, timeout=30, headers={"Accept": "text/html"}) as browser:
        form = _ok(browser.get("/supplier/login"))
        found = _CSRF.search(form.text)
        assert found, "the supplier console's log-in form has no CSRF field"
        fields = {"email": login, "password": password, "csrf_token": found.group(1)}
        signed_in = browser.post("/supplier/login", data=fields, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        return str(signed_in.cookies[SUPPLIER_OPERATOR_COOKIE])


def _populate(server: Server, demo: dict[str, Any]) -> Population:
    supplier_id = str(demo["supplier"]["id"])
    with httpx.Client(base_url=server.url, timeout=60) as client:
        supplier = _token(client, demo["supplier"])
        auditor = _token(client, demo["auditor"])
        _ok(client.put("/v1/supplier/policy", json=POLICY, headers=supplier))
        _ok(client.put("/v1/catalog", json={"items": ITEMS}, headers=supplier))
        mail_dir = Path(server.env["INFOMEDIARY_DATA_DIR"]) / "mail"
        people = [_consumer(client, n, supplier_id, mail_dir) for n in range(CONSUMERS)]
        consumers = [headers for headers, _ in people]
        # One sequential read first: the population really is personalised (200, not 403), so the burst's
        # answers are about concurrency, not about a refusal.
        probe = client.get(f"/v1/recommendations/{people[0][1]}", headers=supplier)
        assert probe.status_code == 200, f"recommendations are refused: {probe.status_code} {probe.text}"

        # First the offer that expires within seconds (refused with an expiry in the past), viewed before it
        # does: a reward paid from its budget (so its refund is the rest) and a change of its figures, which
        # the first reader after expiry draws. The rest of the set-up runs while it expires.
        expires_at = datetime.now(UTC) + timedelta(seconds=EXPIRES_IN_SECONDS)
        expired = _send_offer(client, supplier, expires_at)
        _ok(client.post(f"/v1/me/offers/{expired}/view", headers=consumers[-1]))

        live = _send_offer(client, supplier, datetime.now(UTC) + timedelta(days=7), releases_identity=True)
        for headers in consumers[:ACCEPTING]:
            accepted = client.post(
                f"/v1/me/offers/{live}/accept",
                json={"release_identity": True, "password": PASSWORD},
                headers=headers,
            )
            _ok(accepted)
        # Its true figures changed since it was sent (acceptances), and nobody has read it since: the burst's
        # readers must draw its noise (and charge epsilon) once between them, not once each.
        console_cookie = _console_cookie(
            server, demo["supplier_operator"]["login"], demo["supplier_operator"]["password"]
        )
    return Population(
        supplier_id=supplier_id,
        supplier=supplier,
        auditor=auditor,
        console_cookie=console_cookie,
        consumers=consumers,
        pseudonyms=[pseudonym for _, pseudonym in people],
        live_offer=live,
        expired_offer=expired,
        expires_at=expires_at,
    )


def _calls(population: Population, rng: random.Random) -> list[tuple[str, str, dict[str, str]]]:
    """The burst: half recommendations, the rest reads of both offers through the API and the console."""
    supplier = population.supplier
    console = {"Cookie": f"{SUPPLIER_OPERATOR_COOKIE}={population.console_cookie}", "Accept": "text/html"}
    calls = []
    for n in range(REQUESTS):
        share = n % 10
        if share < 5:
            pseudonym = population.pseudonyms[n % len(population.pseudonyms)]
            calls.append((RECOMMEND, f"/v1/recommendations/{pseudonym}", supplier))
        elif share < 7:
            calls.append((LIVE, f"/v1/offers/{population.live_offer}", supplier))
        elif share < 9:
            calls.append((EXPIRED, f"/v1/offers/{population.expired_offer}", supplier))
        else:
            offer = population.live_offer if n % 20 == 9 else population.expired_offer
            calls.append((CONSOLE, f"/supplier/offers/{offer}", console))
    rng.shuffle(calls)
    return calls


def _fire(server: Server, calls: list[tuple[str, str, dict[str, str]]]) -> Answers:
    burst = Answers()
    # Connection: close, so every request is a new connection: uvicorn's workers share the listening
    # socket and each accepts its share, so both processes write at once (not one keep-alive pool's worker).
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
    with httpx.Client(base_url=server.url, timeout=60, limits=limits) as client:

        def one(call: tuple[str, str, dict[str, str]]) -> tuple[str, httpx.Response | httpx.HTTPError]:
            route, path, headers = call
            try:
                return route, client.get(path, headers={**headers, "Connection": "close"})
            except httpx.HTTPError as exc:
                return route, exc

        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            for route, outcome in pool.map(one, calls):
                burst.record(route, outcome)
    return burst


def _audit(env: dict[str, str], work: Path, verifier_key: str) -> dict[str, str]:
    """The operator's commands: sign a tree head, export the log, verify the export offline."""
    outcomes: dict[str, str] = {}
    dump = work / "log-export.json"
    for name, args in (
        ("sign-tree-head", ["audit", "sign-tree-head"]),
        ("export", ["audit", "export", "--file", str(dump)]),
        ("verify", ["audit", "verify", "--file", str(dump), "--verifier-key", verifier_key]),
    ):
        try:
            cli(env, *args)
            outcomes[name] = "ok"
        except RuntimeError as exc:
            outcomes[name] = str(exc).splitlines()[-1][:300] if str(exc).strip() else "failed"
            break  # the next command needs this one's output
    return outcomes


@dataclass
class Stored:
    log_size: int
    log_entries: int
    last_leaf: int
    ledger_sum: int
    unbalanced: int
    refunds: int
    spent_milli: int
    released_milli: int
    draws: dict[str, int]


def _stored(database_url: str, population: Population) -> Stored:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            size, entries, top = conn.execute(
                text(
                    "SELECT (SELECT size FROM policy_log_state), COUNT(*), COALESCE(MAX(leaf_index), -1) "
                    "FROM policy_log_entries"
                )
            ).one()
            ledger_sum = conn.execute(
                text("SELECT COALESCE(SUM(amount), 0) FROM ledger_postings")
            ).scalar_one()
            unbalanced = conn.execute(
                text(
                    "SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_postings "
                    "GROUP BY transaction_id HAVING SUM(amount) <> 0) AS t"
                )
            ).scalar_one()
            refunds = conn.execute(
                text(
                    "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'offer_refund' AND reference = :o"
                ),
                {"o": population.expired_offer},
            ).scalar_one()
            spent = conn.execute(
                text("SELECT COALESCE(SUM(spent_milli), 0) FROM epsilon_ledger WHERE supplier_id = :s"),
                {"s": population.supplier_id},
            ).scalar_one()
            # Every epsilon this supplier was charged is logged with the release it paid for (offers sent,
            # offer statistics drawn); this scenario makes no other charge.
            draws: Counter[str] = Counter()
            released = 0
            for raw, epsilon in conn.execute(
                text(
                    "SELECT entry, epsilon_milli FROM policy_log_entries "
                    "WHERE kind = 'release' AND supplier_id = :s"
                ),
                {"s": population.supplier_id},
            ):
                released += int(epsilon or 0)
                entry = decode_entry(bytes(raw))
                if entry["release"]["kind"] == "aggregate_count":
                    draws[str(entry.get("details", {}).get("offer_id"))] += 1
    finally:
        engine.dispose()
    return Stored(
        log_size=int(size or 0),
        log_entries=int(entries),
        last_leaf=int(top),
        ledger_sum=int(ledger_sum),
        unbalanced=int(unbalanced),
        refunds=int(refunds),
        spent_milli=int(spent),
        released_milli=released,
        draws={"live": draws[population.live_offer], "expired": draws[population.expired_offer]},
    )


def _after(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response | httpx.HTTPError:
    """A request of the checks: an answer, or the transport error (a broken server may drop the request)."""
    try:
        return client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        return exc


def _run(work: Path, database_url: str | None) -> None:
    began = time.monotonic()
    port = free_port()
    env = server_env(
        work / "var",
        database_url,
        port,
        rate_limit_login="1000000",
        rate_limit_registration="1000000",
        rate_limit_token="1000000",
        supplier_credit_line="1000000000",
        audience_differencing_window="0",
        # The demo's population is small: its offers go out below the default minimum audience.
        audience_min_cohort="0",
        offer_epsilon=str(OFFER_EPSILON),
        audience_epsilon_budget=str(EPSILON_BUDGET),
        # One budget period for the whole run (periods are aligned to the epoch): a run across a period's
        # end would otherwise split the epsilon over two ledger rows.
        audience_budget_period_seconds=str(10**9),
        # Every tree head asked for is signed afresh, so the checks see the log as it is after the burst.
        log_tree_head_interval_seconds="0",
    )
    # `infomediary demo` creates the keys and the schema, a population, the supplier, the auditor and the
    # supplier console's operator, whose logins it writes to demo.json.
    cli(env, "demo", "--customers", str(DEMO_CUSTOMERS), "--seed", "15")
    demo: dict[str, Any] = json.loads((work / "var" / "demo.json").read_text())
    stored_url = Settings(data_dir=work / "var", database_url=database_url).resolved_database_url

    server = Server(env, port, work / "server.log", workers=2)
    server.start()
    try:
        population = _populate(server, demo)
        # Until the expiring offer has expired: from here on every read of it settles it.
        time.sleep(max(0.0, (population.expires_at - datetime.now(UTC)).total_seconds() + 0.3))
        fired = time.monotonic()
        burst = _fire(server, _calls(population, random.Random(15)))
        checked = time.monotonic()

        # A new connection per request: after an exception escapes the app, uvicorn closes the connection,
        # and a keep-alive client would meet the next check with a reset instead of an answer.
        with httpx.Client(base_url=server.url, timeout=60, headers={"Connection": "close"}) as client:
            verifier_key = _ok(client.get("/.well-known/policy-log-key")).json()["verifier_key"]
            audit = _audit(env, work, verifier_key)
            head = _after(client, "GET", "/v1/audit/tree-head", headers=population.auditor)
            # One more logged write after the burst (a consent change appends to the log): the log must still
            # take entries, and its size must then equal its entries.
            grant = {
                "supplier_id": population.supplier_id,
                "purpose": "marketing",
                "category": "interests",
                "decision": "grant",
            }
            appended = _after(client, "POST", "/v1/me/consents", json=grant, headers=population.consumers[0])
        stored = _stored(stored_url, population)
    finally:
        server.stop()

    problems = [
        f"{route}: {faults} of {sum(burst.statuses[route].values())} answers failed"
        for route, faults in sorted(burst.faults.items())
    ]
    problems += [
        f"{route} never answered 200 (the route was not exercised)"
        for route in (RECOMMEND, LIVE, EXPIRED, CONSOLE)
        if burst.statuses[route]["200"] == 0
    ]
    problems += [f"infomediary audit {name}: {outcome}" for name, outcome in audit.items() if outcome != "ok"]
    head_status, _ = _judge(head)
    if head_status != "200":
        problems.append(f"GET /v1/audit/tree-head as an auditor answered {head_status}")
    appended_status, _ = _judge(appended)
    if not appended_status.startswith("2"):
        problems.append(f"the consent change after the burst (a log append) answered {appended_status}")
    if not stored.log_size == stored.log_entries == stored.last_leaf + 1:
        problems.append(
            f"the policy log's stored size is {stored.log_size} but it holds {stored.log_entries} entries "
            f"(last leaf index {stored.last_leaf})"
        )
    if stored.ledger_sum != 0 or stored.unbalanced:
        problems.append(
            f"the ledger sums to {stored.ledger_sum}, with {stored.unbalanced} unbalanced transactions"
        )
    if stored.refunds != 1:
        problems.append(f"the expired offer was refunded {stored.refunds} times, not once")
    budget = round(EPSILON_BUDGET * 1000)
    if stored.released_milli > budget or stored.released_milli != stored.spent_milli:
        problems.append(
            f"epsilon released (logged) {stored.released_milli} milli, charged {stored.spent_milli}, "
            f"budget {budget}"
        )
    problems += [
        f"the {offer} offer's noise was drawn {count} times for one change of its figures"
        for offer, count in stored.draws.items()
        if count > 1
    ]

    figures = {
        "database": "postgresql" if database_url else "sqlite",
        "statuses": {route: dict(sorted(counts.items())) for route, counts in sorted(burst.statuses.items())},
        "audit": audit,
        "tree_head": head_status,
        "append_after": appended_status,
        "log_size": stored.log_size,
        "log_entries": stored.log_entries,
        "ledger_sum": stored.ledger_sum,
        "refunds": stored.refunds,
        "epsilon_released_milli": stored.released_milli,
        "epsilon_spent_milli": stored.spent_milli,
        "noise_draws": stored.draws,
        "seconds": {
            "setup": round(fired - began, 1),
            "burst": round(checked - fired, 1),
            "checks": round(time.monotonic() - checked, 1),
        },
    }
    print(f"writing reads: {figures}")
    assert not problems, (
        "GETs that write broke under concurrency:\n- "
        + "\n- ".join(problems)
        + f"\nstatuses: {figures['statuses']}"
        + "\nthe server logged: "
        + "; ".join(_server_exceptions(work / "server.log"))
        + f"\nfigures: {figures}"
    )


def test_concurrent_writing_gets_answer_and_leave_the_log_ledger_and_budget_whole(tmp_path: Path) -> None:
    admin_url = os.environ.get("INFOMEDIARY_TEST_DATABASE_URL")
    if admin_url:
        with fresh_postgres_database(admin_url) as url:
            _run(tmp_path, url)
    else:
        _run(tmp_path, None)
