"""Crash safety: a write-heavy load against a real server, `kill -9` at random moments, restart, check.

What it checks after every restart and at the end:

- every write that was acknowledged (a 2xx received) is there: profile edits, consent changes, offers sent,
  offers viewed (rewards paid); a write refused with an error is not; a write cut off by the kill may be
  either way, but only as a whole;
- nothing half-done: the ledger sums to zero overall and per transaction, every account's balance equals
  its postings, every consent event has its policy-log entry and every consent entry its event, the log
  has no gaps;
- the offline verifier (`infomediary audit verify`, against the live API with a state file, and against an
  export) passes, and every tree head seen before a crash is consistent with the head after it.

Bounded in the normal test run (`tests/stress/test_crash_safety.py`); in full from one command:

    python -m tests.stress.crash --kills 20 --seconds 4 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import base64
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from infomediary import schema
from infomediary.consents.entries import EVENT_KINDS
from infomediary.database import unit_of_work
from infomediary.flows import auditor_registered, supplier_registered
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.offline_verifier import load_state, save_state, verify_remote
from infomediary.policylog.proof_verification import verify_consistency
from infomediary.runtime import Runtime
from infomediary.settings import SUPPLIER_SCOPES, Settings
from tests.fixtures.mail import kept_token
from tests.stress.server import Server, cli, free_port, server_env

PASSWORD = "crash-safety password 7"
PURPOSES = ["marketing", "personalisation"]
CATEGORIES = ["identity", "contact", "demographics", "interests"]
PROFILE = {"birth_date": "1990-05-01", "gender": "female", "postal_code": "75011", "interests": ["cycling"]}
REWARD_PER_VIEW = 3


class Dead(Exception):
    """The server went away (killed): the request's outcome is unknown."""


@dataclass
class Tracked:
    """What one client was told: acknowledged, refused, or unknown (cut off by the kill)."""

    acked: list[Any] = field(default_factory=list)
    refused: list[Any] = field(default_factory=list)
    unknown: list[Any] = field(default_factory=list)


@dataclass
class ConsumerState:
    email: str
    token: str = ""
    occupation: Tracked = field(default_factory=Tracked)
    # Acknowledged state of each consent record; records whose last change was cut off are `unsure`.
    consents: dict[str, str] = field(default_factory=dict)
    unsure: dict[str, set[str]] = field(default_factory=dict)
    triples: dict[tuple[str, str], str] = field(default_factory=dict)  # (purpose, category) -> record id
    views: Tracked = field(default_factory=Tracked)
    seq: int = 0


@dataclass
class SupplierState:
    owner_id: str
    client_id: str
    client_secret: str
    token: str = ""
    offers: Tracked = field(default_factory=Tracked)  # (idempotency key, body, offer id or None)


@dataclass
class Scenario:
    server: Server
    env: dict[str, str]
    database_url: str
    consumers: list[ConsumerState]
    supplier: SupplierState
    auditor: dict[str, str]
    verifier_key: str
    state_file: Path
    heads: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        return client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise Dead(str(exc)) from None


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _token(client: httpx.Client, client_id: str, client_secret: str) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# -- set-up ----------------------------------------------------------------------------------------------


def _register_clients(env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """What `infomediary init`, `suppliers add` and `auditors add` do, in this process (each command launch
    costs seconds on a loaded machine, and the command line has its own tests)."""
    settings = Settings(
        data_dir=Path(env["INFOMEDIARY_DATA_DIR"]), database_url=env.get("INFOMEDIARY_DATABASE_URL")
    )
    with Runtime.open(settings) as runtime:
        runtime.keys.ensure()
        schema.upgrade(runtime.engine)
    with Runtime.open(settings) as runtime, unit_of_work(runtime.session_factory) as session:
        view, supplier = supplier_registered.register_supplier(
            session, name="Crash Test Supplier", scopes=list(SUPPLIER_SCOPES)
        )
        auditor_id, auditor = auditor_registered.register_auditor(session, name="Crash Test Auditor")
    return (
        {"id": view.id, "client_id": supplier.client_id, "client_secret": supplier.client_secret},
        {"id": auditor_id, "client_id": auditor.client_id, "client_secret": auditor.client_secret},
    )


def set_up(work: Path, database_url: str | None, *, consumers: int, seed: int) -> Scenario:
    port = free_port()
    env = server_env(
        work / "var",
        database_url,
        port,
        rate_limit_login="1000000",
        rate_limit_registration="1000000",
        rate_limit_token="1000000",
        log_tree_head_interval_seconds="0",
        supplier_credit_line="1000000000000",
        audience_min_cohort="0",
    )
    supplier, auditor = _register_clients(env)
    server = Server(env, port, work / "server.log")
    server.start()
    url = database_url or f"sqlite:///{(work / 'var' / 'infomediary.db').resolve()}"
    scenario = Scenario(
        server=server,
        env=env,
        database_url=url,
        consumers=[],
        supplier=SupplierState(supplier["id"], supplier["client_id"], supplier["client_secret"]),
        auditor=auditor,
        verifier_key="",
        state_file=work / "heads.json",
        rng=random.Random(seed),
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        scenario.verifier_key = client.get("/.well-known/policy-log-key").json()["verifier_key"]
        scenario.supplier.token = _token(client, supplier["client_id"], supplier["client_secret"])
        policy = client.put(
            "/v1/supplier/policy",
            json={"purposes": PURPOSES, "categories": CATEGORIES},
            headers=_bearer(scenario.supplier.token),
        )
        policy.raise_for_status()
        for n in range(consumers):
            state = ConsumerState(email=f"crash-{n}-{secrets.token_hex(3)}@example.org")
            client.post("/v1/accounts", json={"email": state.email, "password": PASSWORD}).raise_for_status()
            # The link in the mail the server kept (no relay configured), followed as she would.
            token = kept_token(Path(env["INFOMEDIARY_DATA_DIR"]) / "mail", state.email, "/verify-email")
            client.post("/v1/accounts/verify", json={"token": token}).raise_for_status()
            login = client.post("/v1/session", json={"email": state.email, "password": PASSWORD})
            login.raise_for_status()
            state.token = login.json()["access_token"]
            client.patch("/v1/me/profile", json=PROFILE, headers=_bearer(state.token)).raise_for_status()
            scenario.consumers.append(state)
    verify_in_process(scenario)
    return scenario


# -- the load --------------------------------------------------------------------------------------------


def _edit_profile(client: httpx.Client, consumer: ConsumerState) -> None:
    consumer.seq += 1
    value = f"job-{consumer.email[:12]}-{consumer.seq}"
    try:
        response = _call(
            client, "PATCH", "/v1/me/profile", json={"occupation": value}, headers=_bearer(consumer.token)
        )
    except Dead:
        consumer.occupation.unknown.append(value)
        raise
    (consumer.occupation.acked if response.is_success else consumer.occupation.refused).append(value)


def _change_consent(client: httpx.Client, consumer: ConsumerState, rng: random.Random, supplier: str) -> None:
    withdrawable = [rid for rid, state in consumer.consents.items() if state == "given"]
    triple: tuple[str, str] | None = None
    if withdrawable and rng.random() < 0.3:
        record_id = rng.choice(withdrawable)
        try:
            response = _call(
                client, "POST", f"/v1/me/consents/{record_id}/withdraw", headers=_bearer(consumer.token)
            )
        except Dead:
            consumer.unsure.setdefault(record_id, set()).add("withdrawn")
            raise
    else:
        triple = (rng.choice(PURPOSES), rng.choice(CATEGORIES))
        decision = rng.choice(["grant", "refuse"])
        body = {"supplier_id": supplier, "purpose": triple[0], "category": triple[1], "decision": decision}
        try:
            response = _call(client, "POST", "/v1/me/consents", json=body, headers=_bearer(consumer.token))
        except Dead:
            # A change cut off by the kill may have landed on the record this choice already has.
            known = consumer.triples.get(triple)
            if known:
                consumer.unsure.setdefault(known, set()).add("given" if decision == "grant" else "refused")
            raise
    if response.is_success:
        consent = response.json()["consent"]
        consumer.consents[consent["id"]] = consent["state"]
        consumer.unsure.pop(consent["id"], None)
        if triple is not None:
            consumer.triples[triple] = consent["id"]


def _view_offer(client: httpx.Client, consumer: ConsumerState, rng: random.Random) -> None:
    inbox = _call(client, "GET", "/v1/me/offers", headers=_bearer(consumer.token))
    if not inbox.is_success:
        return
    seen = {*consumer.views.acked, *consumer.views.unknown, *consumer.views.refused}
    fresh = [o["id"] for o in inbox.json()["items"] if o["id"] not in seen and o["state"] == "delivered"]
    if not fresh:
        return
    offer_id = rng.choice(fresh)
    try:
        response = _call(client, "POST", f"/v1/me/offers/{offer_id}/view", headers=_bearer(consumer.token))
    except Dead:
        consumer.views.unknown.append(offer_id)
        raise
    (consumer.views.acked if response.is_success else consumer.views.refused).append(offer_id)


def _offer_body(rng: random.Random) -> dict[str, Any]:
    return {
        "content": f"Crash-test offer {rng.randrange(10**9)}",
        "purpose": "marketing",
        "predicate": {"eq": ["gender", "female"]},
        "reward_per_view": REWARD_PER_VIEW,
        "reward_per_acceptance": 0,
        "budget_cap": 100_000,
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }


def _send_offer(client: httpx.Client, supplier: SupplierState, key: str, body: dict[str, Any]) -> None:
    try:
        response = _call(
            client,
            "POST",
            "/v1/offers",
            json=body,
            headers=_bearer(supplier.token, **{"Idempotency-Key": key}),
        )
    except Dead:
        supplier.offers.unknown.append((key, body))
        raise
    if response.is_success:
        supplier.offers.acked.append((key, body, response.json()["id"]))
    else:
        supplier.offers.refused.append((key, body, response.status_code))


def _consumer_loop(scenario: Scenario, mine: list[ConsumerState], seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        try:
            while not stop.is_set():
                consumer = rng.choice(mine)
                action = rng.random()
                if action < 0.4:
                    _edit_profile(client, consumer)
                    scenario.counts["profile edits"] += 1
                elif action < 0.75:
                    _change_consent(client, consumer, rng, scenario.supplier.owner_id)
                    scenario.counts["consent changes"] += 1
                else:
                    _view_offer(client, consumer, rng)
                    scenario.counts["offer views"] += 1
        except Dead:
            return


def _supplier_loop(scenario: Scenario, seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    supplier = scenario.supplier
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        try:
            # Offers cut off by the last kill are sent again with the same key: they must exist once.
            retry, supplier.offers.unknown = supplier.offers.unknown, []
            for key, body in retry:
                _send_offer(client, supplier, key, body)
            while not stop.is_set():
                _send_offer(client, supplier, secrets.token_hex(8), _offer_body(rng))
                scenario.counts["offers sent"] += 1
                time.sleep(0.05)
        except Dead:
            return


def _head_watcher(scenario: Scenario, stop: threading.Event) -> None:
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        try:
            token = _token(client, scenario.auditor["client_id"], scenario.auditor["client_secret"])
            while not stop.is_set():
                response = _call(client, "GET", "/v1/audit/tree-head", headers=_bearer(token))
                if response.is_success:
                    scenario.heads.append(response.json())
                time.sleep(0.1)
        except (Dead, httpx.HTTPError):
            return


def load_then_kill(scenario: Scenario, seconds: float, threads: int = 3) -> None:
    """Run the load, kill the server at a random moment within `seconds`, then restart it."""
    stop = threading.Event()
    chunks = [scenario.consumers[i::threads] for i in range(threads)]
    workers = [
        threading.Thread(target=_consumer_loop, args=(scenario, chunk, scenario.rng.randrange(10**9), stop))
        for chunk in chunks
        if chunk
    ]
    workers.append(
        threading.Thread(target=_supplier_loop, args=(scenario, scenario.rng.randrange(10**9), stop))
    )
    workers.append(threading.Thread(target=_head_watcher, args=(scenario, stop)))
    for worker in workers:
        worker.start()
    time.sleep(scenario.rng.uniform(seconds / 3, seconds))
    scenario.server.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    scenario.counts["kills"] += 1
    scenario.server.start()


# -- the checks ------------------------------------------------------------------------------------------


class CrashSafetyViolation(AssertionError):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CrashSafetyViolation(message)


def check_acknowledged(scenario: Scenario) -> None:
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        for consumer in scenario.consumers:
            headers = _bearer(consumer.token)
            profile = client.get("/v1/me/profile", headers=headers)
            _expect(profile.status_code == 200, f"profile unreadable after a crash: {profile.text[:300]}")
            fields = {f["key"]: f["value"] for f in profile.json()["fields"]}
            occupation = fields.get("occupation")
            sent = consumer.occupation
            # Writes of one client are sequential: the last acknowledged value, or one cut off after it.
            allowed = {sent.acked[-1] if sent.acked else None}
            if sent.acked:
                last = max(int(v.rsplit("-", 1)[1]) for v in sent.acked)
                allowed |= {v for v in sent.unknown if int(v.rsplit("-", 1)[1]) > last}
            else:
                allowed |= set(sent.unknown)
            _expect(
                occupation in allowed,
                f"{consumer.email}: occupation {occupation!r}, acknowledged {sent.acked[-1:]}, "
                f"cut off {sent.unknown[-2:]}",
            )
            _expect(occupation not in sent.refused, "a refused profile edit is in the profile")

            listed = client.get("/v1/me/consents", params={"limit": 100}, headers=headers).json()["items"]
            states = {item["id"]: item["state"] for item in listed}
            for record_id, state in consumer.consents.items():
                _expect(record_id in states, f"acknowledged consent {record_id} is missing")
                allowed_states = {state, *consumer.unsure.get(record_id, set())}
                _expect(
                    states[record_id] in allowed_states,
                    f"consent {record_id} is {states[record_id]}, acknowledged as {state}",
                )

            balance = client.get("/v1/me/rewards", headers=headers).json()["balance"]
            low = REWARD_PER_VIEW * len(consumer.views.acked)
            high = low + REWARD_PER_VIEW * len(consumer.views.unknown)
            _expect(low <= balance <= high, f"{consumer.email}: balance {balance}, acknowledged views {low}")

        token = _token(client, scenario.supplier.client_id, scenario.supplier.client_secret)
        for _key, _body, offer_id in scenario.supplier.offers.acked:
            found = client.get(f"/v1/offers/{offer_id}", headers=_bearer(token))
            _expect(
                found.status_code == 200, f"acknowledged offer {offer_id} is missing: {found.status_code}"
            )
        ids = [offer_id for _k, _b, offer_id in scenario.supplier.offers.acked]
        replays = Counter(key for key, _b, _id in scenario.supplier.offers.acked)
        for key, count in replays.items():
            if count > 1:
                same = {offer_id for k, _b, offer_id in scenario.supplier.offers.acked if k == key}
                _expect(len(same) == 1, f"idempotency key {key} made {len(same)} offers")
        _expect(len(ids) > 0 or scenario.counts["offers sent"] == 0, "no offer was ever acknowledged")


def check_nothing_half_done(scenario: Scenario) -> None:
    engine = create_engine(scenario.database_url)
    try:
        with engine.connect() as conn:
            total = conn.execute(text("SELECT COALESCE(SUM(amount), 0) FROM ledger_postings")).scalar_one()
            _expect(total == 0, f"the ledger sums to {total}, not zero")
            unbalanced = conn.execute(
                text(
                    "SELECT transaction_id FROM ledger_postings GROUP BY transaction_id "
                    "HAVING SUM(amount) <> 0"
                )
            ).all()
            _expect(not unbalanced, f"unbalanced ledger transactions: {unbalanced[:5]}")
            empty = conn.execute(
                text(
                    "SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_postings p "
                    "ON p.transaction_id = t.id WHERE p.id IS NULL"
                )
            ).all()
            _expect(not empty, f"ledger transactions without postings: {empty[:5]}")
            drift = conn.execute(
                text(
                    "SELECT a.id, a.total, COALESCE(SUM(p.amount), 0) FROM ledger_accounts a "
                    "LEFT JOIN ledger_postings p ON p.account_id = a.id GROUP BY a.id, a.total "
                    "HAVING a.total <> COALESCE(SUM(p.amount), 0)"
                )
            ).all()
            _expect(not drift, f"account balances differ from their postings: {drift[:5]}")

            events = Counter(
                (record_id, EVENT_KINDS[state])
                for record_id, state in conn.execute(text("SELECT record_id, to_state FROM consent_events"))
            )
            logged: Counter[tuple[str, str]] = Counter()
            for kind, raw in conn.execute(
                text("SELECT kind, entry FROM policy_log_entries WHERE kind LIKE 'consent.%'")
            ):
                logged[(decode_entry(bytes(raw))["details"]["record_id"], kind)] += 1
            _expect(
                events == logged,
                f"consent events without log entries: {list((events - logged).items())[:3]}; "
                f"log entries without events: {list((logged - events).items())[:3]}",
            )
            size, count, top = conn.execute(
                text(
                    "SELECT (SELECT size FROM policy_log_state), COUNT(*), COALESCE(MAX(leaf_index), -1) "
                    "FROM policy_log_entries"
                )
            ).one()
            _expect(size == count == top + 1, f"policy log size {size}, {count} entries, last index {top}")
            scenario.counts["consent events"] = sum(events.values())
            scenario.counts["ledger postings"] = conn.execute(
                text("SELECT COUNT(*) FROM ledger_postings")
            ).scalar_one()
    finally:
        engine.dispose()


def verify_in_process(scenario: Scenario) -> None:
    """What `infomediary audit verify --url --state` runs, called in this process between kills."""
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        result = verify_remote(
            client,
            client_id=scenario.auditor["client_id"],
            client_secret=scenario.auditor["client_secret"],
            verifier_key=scenario.verifier_key,
            previous=load_state(scenario.state_file),
        )
    save_state(scenario.state_file, result.head)


def verify_offline(scenario: Scenario) -> None:
    """`infomediary audit verify` against the running server, with the state of the last run."""
    env = {**scenario.env, "INFOMEDIARY_AUDIT_CLIENT_SECRET": scenario.auditor["client_secret"]}
    cli(
        env,
        "audit",
        "verify",
        "--url",
        scenario.server.url,
        "--client-id",
        scenario.auditor["client_id"],
        "--verifier-key",
        scenario.verifier_key,
        "--state",
        str(scenario.state_file),
    )


def verify_export(scenario: Scenario, work: Path) -> None:
    dump = work / "log-export.json"
    dump.unlink(missing_ok=True)
    cli(scenario.env, "audit", "export", "--file", str(dump))
    cli(scenario.env, "audit", "verify", "--file", str(dump), "--verifier-key", scenario.verifier_key)


def check_heads_consistent(scenario: Scenario) -> None:
    with httpx.Client(base_url=scenario.server.url, timeout=30) as client:
        token = _token(client, scenario.auditor["client_id"], scenario.auditor["client_secret"])
        now = client.get("/v1/audit/tree-head", headers=_bearer(token)).json()
        new_root = base64.b64decode(now["sha256_root_hash"])
        for head in {h["tree_size"]: h for h in scenario.heads}.values():
            size = head["tree_size"]
            _expect(size <= now["tree_size"], f"the log shrank from {size} to {now['tree_size']}")
            if size == 0 or size == now["tree_size"]:
                _expect(
                    size == 0 or head["sha256_root_hash"] == now["sha256_root_hash"], "same size, other root"
                )
                continue
            proof = client.get(
                "/v1/audit/proofs/consistency",
                params={"first": size, "second": now["tree_size"]},
                headers=_bearer(token),
            ).json()["consistency"]
            verify_consistency(
                size,
                now["tree_size"],
                base64.b64decode(head["sha256_root_hash"]),
                new_root,
                [base64.b64decode(p) for p in proof],
            )
        scenario.counts["tree heads checked"] = len(scenario.heads)


def check_all(scenario: Scenario, work: Path) -> None:
    check_acknowledged(scenario)
    check_nothing_half_done(scenario)
    verify_in_process(scenario)
    check_heads_consistent(scenario)


def run(
    work: Path, database_url: str | None, *, kills: int, seconds: float, consumers: int = 9, seed: int = 1
) -> Scenario:
    """The whole scenario (its `counts` say what was done). Raises `CrashSafetyViolation` on the first
    broken rule."""
    scenario = set_up(work, database_url, consumers=consumers, seed=seed)
    try:
        for _ in range(kills):
            load_then_kill(scenario, seconds)
            check_all(scenario, work)
        # The operator's commands, once at the end: over the API with the state of the runs before the
        # kills, and offline from an export.
        verify_offline(scenario)
        verify_export(scenario, work)
    finally:
        scenario.server.stop()
    scenario.counts["acknowledged profile edits"] = sum(len(c.occupation.acked) for c in scenario.consumers)
    scenario.counts["writes cut off by a kill"] = sum(
        len(c.occupation.unknown) + len(c.views.unknown) for c in scenario.consumers
    )
    scenario.counts["acknowledged offers"] = len(scenario.supplier.offers.acked)
    return scenario


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=4.0, help="Longest load between two kills.")
    parser.add_argument("--consumers", type=int, default=24)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (a scratch database); default SQLite."
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    print(f"seed {seed}; {args.kills} kills; {'PostgreSQL' if args.database_url else 'SQLite'}")
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        if args.database_url:
            from tests.fixtures.databases import fresh_postgres_database

            with fresh_postgres_database(args.database_url) as url:
                counts = run(
                    Path(tmp),
                    url,
                    kills=args.kills,
                    seconds=args.seconds,
                    consumers=args.consumers,
                    seed=seed,
                ).counts
        else:
            counts = run(
                Path(tmp), None, kills=args.kills, seconds=args.seconds, consumers=args.consumers, seed=seed
            ).counts
    for name, value in sorted(counts.items()):
        print(f"{name:>28}: {value}")
    print("crash safety: every check passed")


if __name__ == "__main__":
    main()
