"""Micro-benchmark of the vault's hot path against raw AES-GCM measured in the same run.

Run from the repository root: ``python -m bench.vault [--database-url URL]``. Prints ops/second for (a) raw
AES-GCM and (b) the Vault with a warm cache on the same profile-sized payloads, the ratio b/a (goal: at least
0.5), then (c) the rate of rewrapping 100,000 data keys (key work only, no database), (d) opens with a cold
cache (unwrap + erasure key + key setup + decrypt), and (e) full ``PATCH`` + ``GET /v1/me/profile`` round
trips per second through the app on SQLite, and on PostgreSQL when ``--database-url`` names one.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import DataKeyCache, LocalKeyring, Vault, WrappedKey, field_aad

REPEATS = 7
HOT_OPS = 20_000
COLD_OPS = 5_000
REWRAP_KEYS = 100_000
SUBJECTS = 200
FIELDS = ("given_name", "family_name", "email", "phone", "birth_date", "occupation", "postal_address")
RATIO_GOAL = 0.5


def best_rates(
    operations: int, runs: dict[str, Callable[[], None]], repeats: int = REPEATS
) -> dict[str, float]:
    """Best-of-``repeats`` operations per second for each run.

    The runs take turns within each repeat, so a burst of load on the machine hits them alike and the ratio
    between them stays fair; the best time of each is the one least disturbed.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
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


ROUND_TRIP_SECONDS = 3.0


def bench_round_trips(database_url: str | None, directory: Path) -> float:
    """PATCH + GET /v1/me/profile round trips per second through the whole app (TestClient, real database)."""
    from fastapi.testclient import TestClient
    from sqlalchemy.engine import make_url

    from api.app import create_app
    from infomediary import schema
    from infomediary.runtime import Runtime
    from infomediary.settings import Settings

    url = database_url or f"sqlite:///{directory / 'bench.db'}"
    admin = None
    if database_url:
        from sqlalchemy import create_engine, text

        name = f"infomediary_bench_{secrets.token_hex(4)}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    settings = Settings(
        data_dir=directory / "var",
        database_url=url,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        log_level="WARNING",
    )
    runtime = Runtime.create(settings)
    try:
        runtime.keys.ensure()
        schema.upgrade(runtime.engine)
        with TestClient(create_app(runtime=runtime), base_url=settings.issuer) as http:
            credentials = {"email": "bench@example.org", "password": "a long benchmark password"}
            http.post("/v1/accounts", json=credentials).raise_for_status()
            token = http.post("/v1/session", json=credentials).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < ROUND_TRIP_SECONDS:
                patch = {"given_name": f"Name {done}", "city": "Lisboa", "interests": ["a", "b", str(done)]}
                http.patch("/v1/me/profile", json=patch, headers=headers).raise_for_status()
                http.get("/v1/me/profile", headers=headers).raise_for_status()
                done += 1
            return done / (time.perf_counter() - started)
    finally:
        runtime.close()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--database-url", help="PostgreSQL server URL for the round-trip part (a fresh database is made)."
    )
    args = parser.parse_args()
    rng = random.Random(20240501)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        keyring = LocalKeyring(Path(directory) / "keys" / "keyring.json")
        vault = Vault(keyring, DataKeyCache(maxsize=SUBJECTS * 2))
        subjects = [f"customer-{i:04d}" for i in range(SUBJECTS)]
        keys = {s: vault.create_data_key(s) for s in subjects}
        payloads = profile_payloads(HOT_OPS, rng)
        jobs = [
            (s, keys[s], rng.choice(FIELDS), v)
            for s, v in zip(rng.choices(subjects, k=HOT_OPS), payloads, strict=True)
        ]
        # Same associated-data size as the vault uses, so the baseline authenticates as many bytes.
        aad = field_aad(subjects[0], "postal_address", 1)

        rates = best_rates(HOT_OPS, {"raw": raw_run(payloads, aad), "warm": vault_warm_run(vault, jobs)})
        raw, warm = rates["raw"], rates["warm"]
        cold = bench_cold_open(vault, jobs[:COLD_OPS])
        rewrap, from_version, to_version = bench_rewrap(keyring, Vault(keyring, DataKeyCache(maxsize=1)))
        round_trips = {"SQLite": bench_round_trips(None, Path(directory) / "sqlite")}
        if args.database_url:
            round_trips["PostgreSQL"] = bench_round_trips(args.database_url, Path(directory) / "pg")
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
            f"KEK v{from_version} -> v{to_version}, {REWRAP_KEYS / rewrap:.2f} s",
        ),
        ("(d) Vault open, cold cache", f"{cold:,.0f}", "each: unwrap + AESGCM setup + decrypt"),
        *(
            (
                f"(e) PATCH+GET profile, {name}",
                f"{rate:,.1f}",
                "round trips/s through the app, incl. database",
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
        return
    table = Table(title="vault micro-benchmark", caption=footer)
    table.add_column("measurement")
    table.add_column("ops/s", justify="right")
    table.add_column("note")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
