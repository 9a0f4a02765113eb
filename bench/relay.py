"""Benchmark of the mail relay end to end on loopback, against bare aiosmtpd forwarding the same messages.

Run from the repository root: ``python -m bench.relay [--quick] [--database-url URL]``.

Set up (not timed): a fresh database with CUSTOMERS customers, each with a confirmed address and a relay
address for one supplier that bound its sending domain and DKIM key; MESSAGES messages to those addresses,
DKIM-signed by the supplier beforehand (its signing is the supplier's cost, not the relay's).

Timed, for each server: MESSAGES messages sent over CONNECTIONS concurrent SMTP connections (one session
each, several messages per session, as a supplier's mail server sends), until every forward has arrived at
one sink aiosmtpd server on loopback.

  (a) baseline: an aiosmtpd handler that accepts each message and hands it to a thread pool that forwards
      it to the sink with smtplib, one connection per message, nothing else;
  (b) the relay (`infomediary.relay.server`): RCPT check and sending limit, sender DKIM verification,
      purpose, consent decision logged, message sealed and kept, its relaying logged, the forward filtered
      and DKIM-signed for the relay domain, sent at commit through the same kind of thread pool.

The ratio b/a has the goal >= 0.3, and (b) the goal >= 100 messages/s. On SQLite, and on PostgreSQL too
when ``--database-url`` (or ``INFOMEDIARY_DATABASE_URL``, if it names PostgreSQL) gives a server (a fresh
database is made and dropped).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import dkim
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.vault import fresh_database

CUSTOMERS = 20
MESSAGES = 1000
CONNECTIONS = int(os.environ.get("BENCH_RELAY_CONNECTIONS", "8"))
QUICK_MESSAGES = 300
RATIO_GOAL = 0.3
RATE_GOAL = 100.0
DOMAIN = "mail.bench-supplier.example"
SELECTOR = "bench"
SENDER = f"bounces@{DOMAIN}"


class Sink:
    """The customers' mail server: counts what arrives, and says when the expected count has."""

    def __init__(self) -> None:
        self.count = 0
        self._expected = 0
        self._done = threading.Event()
        self._lock = threading.Lock()

    def expect(self, count: int) -> None:
        with self._lock:
            self.count, self._expected = 0, count
            self._done.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            if self.count >= self._expected:
                self._done.set()
        return "250 OK"

    def wait(self, timeout: float) -> None:
        if not self._done.wait(timeout):
            raise RuntimeError(f"only {self.count} of {self._expected} forwards arrived")


class BareForwarder:
    """The baseline: accept, then forward to the sink from a thread pool, as the relay's transport does."""

    def __init__(self, sink_port: int, threads: int) -> None:
        self.sink_port = sink_port
        self.pool = ThreadPoolExecutor(max_workers=threads)

    def _forward(self, mail_from: str, to: str, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", self.sink_port, timeout=30) as smtp:
            smtp.sendmail(mail_from, [to], raw)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.pool.submit(self._forward, envelope.mail_from, envelope.rcpt_tos[0], raw)
        return "250 OK"


@contextmanager
def running(controller: Controller) -> Iterator[Controller]:
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def _signed(to: str, index: int, key_pem: bytes) -> bytes:
    composed = EmailMessage()
    composed["From"] = f"Bench Supplier <orders@{DOMAIN}>"
    composed["To"] = to
    composed["Subject"] = f"Your order {index} has shipped"
    composed["Date"] = format_datetime(datetime.now(UTC))
    composed["Message-ID"] = make_msgid(domain=DOMAIN)
    composed.set_content(f"Parcel {index} leaves our warehouse today.\n")
    composed.add_alternative(
        f'<p>Parcel <b>{index}</b> leaves today.<img src="https://t.bench.example/p.gif?m={index}"></p>',
        subtype="html",
    )
    raw = composed.as_bytes(policy=composed.policy.clone(linesep="\r\n"))
    signature: bytes = dkim.sign(
        raw,
        selector=SELECTOR.encode(),
        domain=DOMAIN.encode(),
        privkey=key_pem,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return signature + raw


def send_all(port: int, jobs: list[tuple[str, bytes]], connections: int) -> None:
    """Send every (recipient, message) over `connections` concurrent SMTP sessions."""
    shares = [jobs[i::connections] for i in range(connections)]

    def one(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for to, raw in share:
                refused = smtp.sendmail(SENDER, [to], raw)
                if refused:
                    raise RuntimeError(f"refused: {refused}")

    with ThreadPoolExecutor(max_workers=connections) as pool:
        for future in [pool.submit(one, share) for share in shares]:
            future.result()


def timed(port: int, sink: Sink, jobs: list[tuple[str, bytes]], connections: int) -> float:
    """Messages per second from the first send until the last forward arrived."""
    sink.expect(len(jobs))
    started = time.perf_counter()
    send_all(port, jobs, connections)
    sink.wait(timeout=600)
    return len(jobs) / (time.perf_counter() - started)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seeded(runtime: Any, mail_dir: Path, customers: int) -> tuple[list[str], bytes]:
    """CUSTOMERS customers, each with a relay address for one supplier that bound its DKIM key; returns the
    addresses and the supplier's private key (PEM)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from bench.http import mailed_token
    from infomediary.database import unit_of_work
    from infomediary.flows import supplier_registered
    from infomediary.settings import SUPPLIER_SCOPES

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with unit_of_work(runtime.session_factory) as session:
        view, credentials = supplier_registered.register_supplier(
            session, name="Bench Supplier", scopes=list(SUPPLIER_SCOPES)
        )
    addresses: list[str] = []
    with TestClient(create_app(runtime=runtime), base_url=runtime.settings.issuer) as http:
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials.client_id, credentials.client_secret),
        ).json()["access_token"]
        supplier = {"Authorization": f"Bearer {token}"}
        policy = {"purposes": ["service_messages"], "categories": ["contact"]}
        http.put("/v1/supplier/policy", json=policy, headers=supplier).raise_for_status()
        domain = {"domain": DOMAIN, "selector": SELECTOR, "public_key": public}
        http.put("/v1/supplier/sending-domain", json=domain, headers=supplier).raise_for_status()
        for i in range(customers):
            credentials_ = {"email": f"customer-{i}@example.org", "password": "a long benchmark password"}
            http.post("/v1/accounts", json=credentials_).raise_for_status()
            verify = {"token": mailed_token(mail_dir, credentials_["email"])}
            http.post("/v1/accounts/verify", json=verify).raise_for_status()
            bearer = http.post("/v1/session", json=credentials_).json()["access_token"]
            headers = {"Authorization": f"Bearer {bearer}"}
            grant = {
                "supplier_id": view.id,
                "purpose": "service_messages",
                "category": "contact",
                "decision": "grant",
            }
            http.post("/v1/me/consents", json=grant, headers=headers).raise_for_status()
            [alias] = http.get("/v1/me/aliases", headers=headers).json()["aliases"]
            addresses.append(alias["address"])
    return addresses, key_pem


def bench_database(server_url: str | None, directory: Path, messages: int) -> tuple[float, float]:
    """(baseline, relay) messages per second on one database."""
    from infomediary import schema
    from infomediary.mail.transport import SmtpTransport
    from infomediary.relay import server
    from infomediary.runtime import Runtime
    from infomediary.settings import Settings

    sink = Sink()
    sink_port = _free_port()
    with (
        fresh_database(server_url, directory) as url,
        running(Controller(sink, hostname="127.0.0.1", port=sink_port)),
    ):
        settings = Settings(
            data_dir=directory / "var",
            database_url=url,
            log_level="WARNING",
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            argon2_parallelism=1,
            relay_messages_per_supplier_per_hour=10 * messages,
            # The setup registers and logs in every customer from one address.
            rate_limit_registration=10 * CUSTOMERS,
            rate_limit_login=10 * CUSTOMERS,
        )
        runtime = Runtime.create(settings)
        try:
            runtime.keys.ensure()
            schema.upgrade(runtime.engine)
            addresses, key_pem = seeded(runtime, settings.data_dir / "mail", CUSTOMERS)
            jobs = [(addresses[i % len(addresses)], i) for i in range(messages)]
            signed = [(to, _signed(to, i, key_pem)) for to, i in jobs]
            relaying = Settings(
                **{
                    **settings.model_dump(),
                    "mail_smtp_host": "127.0.0.1",
                    "mail_smtp_port": sink_port,
                    "mail_smtp_starttls": False,
                }
            )
            runtime = dataclasses.replace(runtime, mail_transport=SmtpTransport(relaying))
            runtime.keys.relay_dkim_pem()  # made on first use: not in the timed part

            # As many sending threads as the relay's outbound transport has (`SmtpTransport`: 2).
            bare = BareForwarder(sink_port, threads=2)
            bare_port = _free_port()
            with running(Controller(bare, hostname="127.0.0.1", port=bare_port)):
                timed(bare_port, sink, signed[: min(50, messages)], CONNECTIONS)  # warm-up
                baseline = timed(bare_port, sink, signed, CONNECTIONS)
            bare.pool.shutdown(wait=True)

            relay_port = _free_port()
            with running(server.controller(runtime, host="127.0.0.1", port=relay_port)):
                relayed = timed(relay_port, sink, signed, CONNECTIONS)
            return baseline, relayed
        finally:
            runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.relay", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_MESSAGES} messages instead of {MESSAGES}"
    )
    parser.add_argument("--database-url", help="PostgreSQL server URL: also run there (a fresh database).")
    args = parser.parse_args(argv)
    server_url = args.database_url
    env_url = os.environ.get("INFOMEDIARY_DATABASE_URL", "")
    if server_url is None and env_url.startswith("postgresql"):
        server_url = env_url
    messages = QUICK_MESSAGES if args.quick else MESSAGES
    servers: dict[str, str | None] = {"SQLite": None, **({"PostgreSQL": server_url} if server_url else {})}
    worst = 0
    print(
        f"{messages} DKIM-signed messages (text + HTML with a remote image) to {CUSTOMERS} relay addresses, "
        f"{CONNECTIONS} concurrent SMTP connections, until every forward arrived at the sink"
    )
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
        for name, url in servers.items():
            baseline, relayed = bench_database(url, Path(tmp) / name.lower(), messages)
            ratio = relayed / baseline
            ok = ratio >= RATIO_GOAL and relayed >= RATE_GOAL
            worst = max(worst, 0 if ok else 1)
            print(f"-- {name}")
            print(f"  (a) bare aiosmtpd forwarding        {baseline:10,.1f} messages/s   baseline")
            verdict = "met" if ok else "NOT met"
            print(
                f"  (b) relay (decide, log, seal, DKIM) {relayed:10,.1f} messages/s   "
                f"ratio b/a = {ratio:.3f} (goal >= {RATIO_GOAL}, and >= {RATE_GOAL:.0f}/s): {verdict}"
            )
    return worst


if __name__ == "__main__":
    sys.exit(main())
