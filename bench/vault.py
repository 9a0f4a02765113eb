"""Benchmark of the vault's hot path against raw AES-GCM measured in the same run, and of what surrounds it.

Run from the repository root: ``python -m bench.vault [--database-url URL]``. Prints ops/second for (a) raw
AES-GCM and (b) the Vault with a warm cache on the same profile-sized payloads, the ratio b/a (goal: at least
0.5), then (c) the rate of rewrapping 100,000 data keys in memory (key work only), (d) opens with a cold cache
(unwrap + erasure key + key derivation + decrypt), (e) the real rotation of 100,000 customers' data keys in a
fresh database by ``infomediary.rotation.rewrap`` in its batches, end to end, and (f) full ``PATCH``
+ ``GET /v1/me/profile`` round trips per second over HTTP to uvicorn on loopback. (e) and (f) run on SQLite,
and on PostgreSQL too when ``--database-url`` names a server (a fresh database is made and dropped).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import DataKeyCache, LocalErasureKeyStore, LocalKeyring, Vault, WrappedKey, field_aad

# The hot comparison times the same OPS operations REPEATS times, raw and vault taking turns: short rounds
# and many of them, so that the best round of each is one the machine's other load left alone.
REPEATS = 60
HOT_OPS = 2_000
COLD_OPS = 500
REWRAP_KEYS = 100_000
SEED_BATCH = 5_000
SUBJECTS = 200
FIELDS = ("given_name", "family_name", "email", "phone", "birth_date", "occupation", "postal_address")
RATIO_GOAL = 0.5
ROUND_TRIP_SECONDS = 3.0
HOST = "127.0.0.1"  # loopback only


def best_rates(
    operations: int, runs: dict[str, Callable[[], None]], repeats: int = REPEATS
) -> dict[str, float]:
    """Best-of-``repeats`` operations per CPU second of this thread, for each run.

    CPU time rather than wall-clock time: on a machine shared with other work, a run preempted halfway
    would otherwise count the other process's time as its own, and the longer run (the vault's) is the more
    likely to be preempted, which biased the ratio down by as much as a third under load. The runs take
    turns within each repeat, so what other load still costs (caches, frequency) hits them alike; the best
    of each is the one least disturbed.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.thread_time()
            run()
            best[name] = min(best[name], time.thread_time() - start)
    return {name: operations / seconds for name, seconds in best.items()}


def profile_payloads(count: int, rng: random.Random) -> list[bytes]:
    """Values shaped like profile fields: printable text of 16 to 200 bytes."""
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 @.-"
    return [bytes(rng.choices(alphabet, k=rng.randint(16, 200))) for _ in range(count)]


def raw_run(payloads: list[bytes], aad: bytes) -> Callable[[], None]:
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))

    def run() -> None:
        for value in payloads:
            nonce = os.urandom(12)
            sealed = cipher.encrypt(nonce, value, aad)
            cipher.decrypt(nonce, sealed, aad)

    return run


def vault_warm_run(vault: Vault, jobs: list[tuple[str, WrappedKey, str, bytes]]) -> Callable[[], None]:
    def run() -> None:
        for subject_id, wrapped, field, value in jobs:
            sealed = vault.seal_field(subject_id, wrapped, field, value)
            vault.open_field(subject_id, wrapped, field, sealed)

    return run


def bench_cold_open(vault: Vault, jobs: list[tuple[str, WrappedKey, str, bytes]]) -> float:
    sealed = [vault.seal_field(s, w, f, v) for s, w, f, v in jobs]

    def run() -> None:
        for (subject_id, wrapped, field, _), ciphertext in zip(jobs, sealed, strict=True):
            vault.forget(subject_id)
            vault.open_field(subject_id, wrapped, field, ciphertext)

    return best_rates(len(jobs), {"cold": run}, repeats=3)["cold"]


def bench_rewrap(keyring: LocalKeyring, vault: Vault) -> tuple[float, int, int]:
    subjects = [f"subject-{i:06d}" for i in range(REWRAP_KEYS)]
    wrapped = [vault.create_data_key(s) for s in subjects]
    from_version = keyring.current_version()
    to_version = keyring.rotate()
    start = time.perf_counter()
    rewrapped = [vault.rewrap(s, w) for s, w in zip(subjects, wrapped, strict=True)]
    elapsed = time.perf_counter() - start
    assert all(w.kek_version == to_version for w in rewrapped)
    return REWRAP_KEYS / elapsed, from_version, to_version


@contextmanager
def fresh_database(server_url: str | None, directory: Path) -> Iterator[str]:
    """A SQLite file under ``directory``, or a new database on the PostgreSQL server, dropped afterwards."""
    if not server_url:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"infomediary_bench_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_rotation(server_url: str | None, directory: Path) -> tuple[float, float, int]:
    """Rotate the key-encryption key and rewrap REWRAP_KEYS customers' data keys in a fresh database.

    Seeding (customers and their wrapped data keys, by bulk inserts) is not timed. Timed: ``add_version`` and
    ``rotation.rewrap`` exactly as ``infomediary keys rotate`` runs them, batch by batch, one transaction
    each. Returns keys per second, the seconds taken and the batch size.
    """
    from sqlalchemy import insert

    from infomediary import rotation, schema
    from infomediary.customers.models import Customer
    from infomediary.database import unit_of_work, utcnow
    from infomediary.demo import DISABLED_PASSWORD
    from infomediary.profiles.models import CustomerKey
    from infomediary.runtime import Runtime
    from infomediary.settings import Settings

    with fresh_database(server_url, directory) as url:
        settings = Settings(data_dir=directory / "var", database_url=url, log_level="WARNING")
        runtime = Runtime.create(settings)
        try:
            runtime.keys.ensure()
            schema.upgrade(runtime.engine)
            # Wrapped by the runtime's own key provider, as registration wraps them; without erasure keys,
            # which rotation never touches and which would only slow the seeding down.
            seeder = Vault(runtime.vault.provider, DataKeyCache(maxsize=1))
            for start in range(0, REWRAP_KEYS, SEED_BATCH):
                ids = [f"cus_bench{i:07d}" for i in range(start, min(start + SEED_BATCH, REWRAP_KEYS))]
                wrapped = seeder.create_data_keys(ids)
                now = utcnow()
                with unit_of_work(runtime.session_factory) as session:
                    session.execute(
                        insert(Customer),
                        [
                            {
                                "id": customer_id,
                                "password_hash": DISABLED_PASSWORD,
                                "created_at": now,
                                "password_changed_at": now,
                            }
                            for customer_id in ids
                        ],
                    )
                    session.execute(
                        insert(CustomerKey),
                        [
                            {
                                "customer_id": customer_id,
                                "wrapped_key": key.to_bytes(),
                                "kek_version": key.kek_version,
                                "created_at": now,
                            }
                            for customer_id, key in zip(ids, wrapped, strict=True)
                        ],
                    )
            runtime.vault.forget_all()
            started = time.perf_counter()
            rotation.add_version(runtime)
            rewrapped = rotation.rewrap(runtime)
            elapsed = time.perf_counter() - started
            if rewrapped != REWRAP_KEYS or rotation.pending(runtime):
                raise RuntimeError(f"rotation rewrapped {rewrapped} of {REWRAP_KEYS} keys")
            return REWRAP_KEYS / elapsed, elapsed, settings.key_rotation_batch
        finally:
            runtime.close()


def bench_round_trips(server_url: str | None, directory: Path) -> float:
    """PATCH + GET /v1/me/profile round trips per second, over HTTP to uvicorn on loopback.

    One server process (as ``bench.http`` starts it) and one keep-alive client sending one request at a time:
    each figure is the latency of a whole round trip (HTTP, authentication, sealing/opening, database with
    its commit), not the server's throughput under concurrency.
    """
    from bench.http import _cli, _env, _server

    with fresh_database(server_url, directory) as url, ExitStack() as stack:
        directory.mkdir(parents=True, exist_ok=True)
        env = _env(
            {
                "INFOMEDIARY_DATA_DIR": str(directory / "var"),
                "INFOMEDIARY_DATABASE_URL": url,
                "INFOMEDIARY_LOG_LEVEL": "WARNING",
                # Registration and login hash a password once; keep that out of the way of the setup.
                "INFOMEDIARY_ARGON2_TIME_COST": "1",
                "INFOMEDIARY_ARGON2_MEMORY_KIB": "1024",
                "INFOMEDIARY_ARGON2_PARALLELISM": "1",
            }
        )
        _cli(env, "init")
        log_path = directory / "server.log"
        log = stack.enter_context(log_path.open("w"))
        server = stack.enter_context(_server("api.app:create_app", env, log, factory=True))
        try:
            return _round_trips(server.base, directory / "var" / "mail")
        except (httpx.HTTPError, RuntimeError):
            print(log_path.read_text()[-4000:], file=sys.stderr)
            raise


def _round_trips(base: str, mail_dir: Path) -> float:
    import asyncio

    from bench.http import _wait_ready, mailed_token

    async def ready() -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            await _wait_ready(client, f"{base}/healthz")

    asyncio.run(ready())
    # No Nagle delay on the client's writes (headers and body go out separately); uvicorn sets it server-side.
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(base_url=base, timeout=10.0, transport=transport) as http:
        credentials = {"email": "bench@example.org", "password": "a long benchmark password"}
        http.post("/v1/accounts", json=credentials).raise_for_status()
        # The address confirmed by the link the server kept in its mail directory (no relay configured).
        confirm = {"token": mailed_token(mail_dir, credentials["email"])}
        http.post("/v1/accounts/verify", json=confirm).raise_for_status()
        token = http.post("/v1/session", json=credentials).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(20):  # warm-up: first connections, caches, prepared statements
            http.get("/v1/me/profile", headers=headers).raise_for_status()
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < ROUND_TRIP_SECONDS:
            patch = {"given_name": f"Name {done}", "city": "Lisboa", "interests": ["a", "b", str(done)]}
            http.patch("/v1/me/profile", json=patch, headers=headers).raise_for_status()
            http.get("/v1/me/profile", headers=headers).raise_for_status()
            done += 1
        return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.vault", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL: also run the rotation and round trips there (a fresh database is made).",
    )
    args = parser.parse_args(argv)
    rng = random.Random(20240501)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp:
        directory = Path(tmp)
        keyring = LocalKeyring(directory / "keys" / "keyring.json")
        # As the application opens it: with erasure keys, so fields are sealed under the HKDF-derived key.
        erasure_keys = LocalErasureKeyStore(directory / "keys" / "erasure.db")
        vault = Vault(keyring, DataKeyCache(maxsize=SUBJECTS * 2), erasure_keys=erasure_keys)
        subjects = [f"customer-{i:04d}" for i in range(SUBJECTS)]
        keys = dict(zip(subjects, vault.create_data_keys(subjects), strict=True))
        payloads = profile_payloads(HOT_OPS, rng)
        jobs = [
            (s, keys[s], rng.choice(FIELDS), v)
            for s, v in zip(rng.choices(subjects, k=HOT_OPS), payloads, strict=True)
        ]
        # Same associated-data size as the vault uses, so the baseline authenticates as many bytes.
        aad = field_aad(subjects[0], "postal_address", 1)

        rates = best_rates(HOT_OPS, {"raw": raw_run(payloads, aad), "warm": vault_warm_run(vault, jobs)})
        raw, warm = rates["raw"], rates["warm"]
        cold_jobs = [
            (s, keys[s], rng.choice(FIELDS), v)
            for s, v in zip(rng.choices(subjects, k=COLD_OPS), profile_payloads(COLD_OPS, rng), strict=True)
        ]
        cold = bench_cold_open(vault, cold_jobs)
        rewrap, from_version, to_version = bench_rewrap(keyring, Vault(keyring, DataKeyCache(maxsize=1)))
        servers = {"SQLite": None, **({"PostgreSQL": args.database_url} if args.database_url else {})}
        rotations = {
            name: bench_rotation(url, directory / f"rotation-{name.lower()}") for name, url in servers.items()
        }
        round_trips = {
            name: bench_round_trips(url, directory / f"http-{name.lower()}") for name, url in servers.items()
        }
    total = time.perf_counter() - started

    rows = [
        ("(a) raw AESGCM encrypt+decrypt", f"{raw:,.0f}", "baseline"),
        (
            "(b) Vault seal+open, warm cache",
            f"{warm:,.0f}",
            f"ratio b/a = {warm / raw:.3f} (goal >= {RATIO_GOAL})",
        ),
        (
            f"(c) rewrap {REWRAP_KEYS:,} data keys",
            f"{rewrap:,.0f}",
            f"in memory, KEK v{from_version} -> v{to_version}, {REWRAP_KEYS / rewrap:.2f} s",
        ),
        (
            "(d) Vault open, cold cache",
            f"{cold:,.0f}",
            "each: unwrap + erasure key + HKDF + AESGCM + decrypt",
        ),
        *(
            (
                f"(e) rotate {REWRAP_KEYS:,} keys, {name}",
                f"{rate:,.0f}",
                f"keys/s; rotation.rewrap end to end, batches of {batch:,}, {seconds:.1f} s",
            )
            for name, (rate, seconds, batch) in rotations.items()
        ),
        *(
            (
                f"(f) PATCH+GET profile, {name}",
                f"{rate:,.1f}",
                "round trips/s: uvicorn on loopback, one keep-alive client, incl. auth and database",
            )
            for name, rate in round_trips.items()
        ),
    ]
    verdict = "met" if warm / raw >= RATIO_GOAL else "NOT met"
    footer = (
        f"payloads 16-200 bytes, {HOT_OPS:,} ops x best of {REPEATS}; goal {verdict}; whole run {total:.1f} s"
    )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for name, rate, note in rows:
            print(f"{name:<36} {rate:>12} ops/s  {note}")
        print(footer)
        return 0
    table = Table(title="vault benchmark", caption=footer)
    table.add_column("measurement")
    table.add_column("ops/s", justify="right")
    table.add_column("note")
    for row in rows:
        table.add_row(*row)
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
