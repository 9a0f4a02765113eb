"""A synthetic demo population, sealed in the vault exactly as the services would seal it, in bulk.

One interactive consumer (with a password, registered through the registration flow) plus many synthetic
customers who never log in (their password hash is a disabled marker, as in /etc/shadow, so seeding a
large population costs no argon2 work), a demo supplier with every scope and an auditor, and one operator
each for the supplier console and the auditor view. Logins are written to `<data_dir>/demo.json` (mode 0600).

Every synthetic customer gets their own data key (made and wrapped a batch at a time) and a synthetic
profile, activity and purchases (`infomediary.profiles.synthetic`, reproducible from the seed). The rows are
the ones the profile, activity and audience-index services would write: the values are validated by the
profile service's own validation, sealed by its own `seal_value` / `seal_change` and the activity
service's `seal_document` (same JSON, same associated data), the index row comes from the index's own pure
`from_insights`, and the policy log gets the registration entry `register` writes, through `append_many`.
Only the writing differs: one bulk insert per table per batch (COPY on PostgreSQL) and one commit per
batch, instead of an ORM object per value. That is what makes a million customers take minutes.
Registration makes no consent records (the defaults apply until a customer chooses), and neither does this.
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from infomediary.audiences import index as audience_index
from infomediary.bulkload import insert_rows
from infomediary.customers import directory
from infomediary.customers import service as customers_service
from infomediary.customers.blind_index import email_index
from infomediary.customers.models import Customer
from infomediary.database import WriteSession, unit_of_work, utcnow
from infomediary.errors import DomainError
from infomediary.flows import account_registered, auditor_registered, profile_changed, supplier_registered
from infomediary.ids import new_id
from infomediary.keymaterial import write_private_file
from infomediary.operators import service as operators
from infomediary.operators.models import OperatorKind
from infomediary.policylog.service import append_many
from infomediary.profiles import activity, datakeys, insights, synthetic
from infomediary.profiles import service as profiles
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.profiles.fields import SCHEMA_VERSION
from infomediary.profiles.models import ActivityRecord, ProfileChange, ProfileField
from infomediary.profiles.records import RECORD_SCHEMA_VERSION, ActivityIn
from infomediary.runtime import Runtime
from infomediary.settings import SUPPLIER_SCOPES
from infomediary.suppliers.models import Supplier

DEMO_SUPPLIER = "Demo Shop"
DEMO_AUDITOR = "Demo Auditor"
DEMO_EMAIL = "demo@example.org"
DEMO_SUPPLIER_OPERATOR = "operator@shop.example.org"
DEMO_AUDITOR_OPERATOR = "auditor@audit.example.org"
DISABLED_PASSWORD = "!"  # noqa: S105 - not an argon2 hash: verification always fails, so these accounts cannot log in
# Customers per transaction: each brings a dozen fields, their history and a few dozen activity records, so
# a batch is some 100,000 rows. Kept under the vault's data-key cache size (10,000), so each new key is
# sealed with from the cache and never unwrapped again.
BATCH = 2_000
_RECORDS = TypeAdapter(list[ActivityIn])
# What one synthetic customer takes in a SQLite file, indexes and write-ahead log included (measured: about
# 24 KB; most of it the sealed activity records and their two indexes), with a margin.
SQLITE_BYTES_PER_CUSTOMER = 30_000


class NotEnoughDisk(DomainError):
    status = 507
    slug = "insufficient-storage"
    title = "Not enough disk space"


def _check_disk(runtime: Runtime, customers: int) -> None:
    """Refuse before writing anything when a SQLite population would not fit on its disk."""
    if runtime.engine.dialect.name != "sqlite":
        return
    needed = customers * SQLITE_BYTES_PER_CUSTOMER
    free = shutil.disk_usage(runtime.settings.data_dir).free
    if needed > free:
        raise NotEnoughDisk(
            f"{customers:,} demo customers need about {needed / 1e9:.1f} GB in "
            f"{runtime.settings.data_dir}, but only {free / 1e9:.1f} GB are free"
        )


@dataclass(frozen=True)
class _Person:
    """One synthetic customer as validated input: what the API would have received for them."""

    email: str
    values: dict[str, Any]
    records: list[ActivityIn]


def _person(rng: random.Random, now: datetime, email: str) -> _Person:
    values = synthetic.profile(rng, now.date())
    values["email"] = email
    # The profile service's own validation (and JSON form), and the activity API's record model.
    return _Person(
        email,
        profiles.validate_changes(values),
        _RECORDS.validate_python(synthetic.activity(rng, now)),
    )


def _populate(
    session: WriteSession,
    runtime: Runtime,
    cipher: CustomerCipher,
    rng: random.Random,
    now: datetime,
    email: str,
) -> None:
    values = synthetic.profile(rng, now.date())
    values["email"] = email
    profiles.apply_changes(session, runtime, cipher.customer_id, values, actor="demo", now=now, cipher=cipher)
    records = _RECORDS.validate_python(synthetic.activity(rng, now))
    if records:
        activity.record(session, runtime, cipher.customer_id, records, cipher=cipher)
    # Once, after profile and purchases are both in: the row needs the RFM bands too.
    profile_changed.reindex(session, runtime, cipher.customer_id, now)


def _write_batch(
    session: WriteSession, runtime: Runtime, blind_key: bytes, people: list[_Person], now: datetime
) -> None:
    """Write a batch of new customers with the rows the services would write for them, table by table."""
    ids = [new_id("sub") for _ in people]
    directory.name_loaded_accounts(
        runtime, {cid: email_index(blind_key, person.email) for cid, person in zip(ids, people, strict=True)}
    )
    insert_rows(
        session,
        Customer,
        [
            {
                "id": customer_id,
                "password_hash": DISABLED_PASSWORD,
                "status": "active",
                "created_at": now,
                "password_changed_at": now,
                # Synthetic addresses, no mailboxes: the demo vouches for them as for its consumer.
                "email_verified_at": now,
            }
            for customer_id, person in zip(ids, people, strict=True)
        ],
    )
    ciphers = datakeys.create(session, runtime, ids)
    fields: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    index_rows: list[tuple[str, audience_index.IndexValues]] = []
    for cipher, person in zip(ciphers, people, strict=True):
        _seal_person(cipher, person, now, fields, changes, records, index_rows)
    insert_rows(session, ProfileField, fields)
    insert_rows(session, ProfileChange, changes)
    insert_rows(session, ActivityRecord, records)
    audience_index.store(session, index_rows, now)
    append_many(session, [customers_service.registration_entry(runtime, cid) for cid in ids])


def _seal_person(
    cipher: CustomerCipher,
    person: _Person,
    now: datetime,
    fields: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    records: list[dict[str, Any]],
    index_rows: list[tuple[str, audience_index.IndexValues]],
) -> None:
    """Seal one new customer's profile, history and activity, and derive their index row, into the lists.

    What `apply_changes` (a new field: a field row and a history entry with no old value), `activity.record`
    and `audience_index.refresh` would write for a customer who has nothing yet.
    """
    customer_id = cipher.customer_id
    for key, value in person.values.items():
        if value is None:
            continue  # clearing a field that was never set is no change
        fields.append(
            {
                "customer_id": customer_id,
                "field": key,
                "schema_version": SCHEMA_VERSION,
                "ciphertext": profiles.seal_value(cipher, key, value, "demo"),
                "updated_at": now,
            }
        )
        changes.append(
            {
                "customer_id": customer_id,
                "schema_version": SCHEMA_VERSION,
                "ciphertext": profiles.seal_change(cipher, key, None, value, "demo"),
                "changed_at": now,
            }
        )
    purchases: list[tuple[datetime, dict[str, Any]]] = []
    for item in person.records:
        document = activity.document(item)
        records.append(
            {
                "customer_id": customer_id,
                "kind": item.kind,
                "occurred_at": item.occurred_at,
                "schema_version": RECORD_SCHEMA_VERSION,
                "ciphertext": activity.seal_document(cipher, item.kind, document),
                "recorded_at": now,
            }
        )
        if item.kind == "purchase":
            purchases.append((item.occurred_at, document))
    profile = {key: person.values[key] for key in audience_index.SOURCE_FIELDS if key in person.values}
    index_rows.append(
        (customer_id, audience_index.from_insights(profile, insights.figures(purchases, now), now.date()))
    )


def seed_demo(
    runtime: Runtime,
    *,
    customers: int,
    seed: int,
    console: Console | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    path = runtime.settings.data_dir / "demo.json"
    with unit_of_work(runtime.session_factory) as session:
        if session.scalar(select(Supplier.id).where(Supplier.name == DEMO_SUPPLIER)) is not None:
            if path.exists():
                summary: dict[str, Any] = json.loads(path.read_text())
                summary["note"] = "demo already seeded; logins are in demo.json"
                return summary
            return {"note": "demo already seeded, but demo.json is gone: its secrets cannot be shown again"}

    _check_disk(runtime, customers)
    # The population is reproducible from the seed; the one real password is not.
    password = "demo-" + secrets.token_urlsafe(12)
    key = runtime.keys.secret("blind_index")
    rng = random.Random(seed)  # noqa: S311 - synthetic data must be reproducible from the seed, not secret
    with unit_of_work(runtime.session_factory) as session:
        # The demo's address is no mailbox (example.org): confirmed at once, so the consumer in demo.json
        # signs in straight away, as the README's first commands promise.
        account = account_registered.register(
            session, runtime, email=DEMO_EMAIL, password=password, address_vouched=True
        )
        assert account is not None, "a fresh demo database has no consumer yet"
        _populate(
            session,
            runtime,
            datakeys.cipher_for(session, runtime, account.subject_id),
            rng,
            utcnow(),
            DEMO_EMAIL,
        )
        supplier, supplier_credentials = supplier_registered.register_supplier(
            session, name=DEMO_SUPPLIER, scopes=list(SUPPLIER_SCOPES)
        )
        auditor_id, auditor_credentials = auditor_registered.register_auditor(session, name=DEMO_AUDITOR)
        # People who sign in to the supplier console and the auditor view (pages, not OAuth clients).
        operator_passwords = {kind: "demo-" + secrets.token_urlsafe(12) for kind in OperatorKind}
        for kind, owner, login in (
            (OperatorKind.SUPPLIER, supplier.id, DEMO_SUPPLIER_OPERATOR),
            (OperatorKind.AUDITOR, auditor_id, DEMO_AUDITOR_OPERATOR),
        ):
            operators.add(
                session, runtime, kind=kind, owner=owner, login=login, password=operator_passwords[kind]
            )

    population = customers - 1
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} customers/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=console is None) as progress:
        task = progress.add_task("seeding customers", total=population, rate="-")
        for start in range(0, population, batch):
            now = utcnow()
            people = [
                _person(rng, now, f"customer{seed}-{i}@demo.example.org")
                for i in range(start, min(start + batch, population))
            ]
            with unit_of_work(runtime.session_factory) as session:
                _write_batch(session, runtime, key, people, now)
            progress.advance(task, len(people))
            rate = (start + len(people)) / (time.perf_counter() - started)
            progress.update(task, rate=f"{rate:,.0f}")
    elapsed = time.perf_counter() - started
    if runtime.engine.dialect.name == "postgresql":
        # Fresh planner statistics after the bulk load, so the first audience counts get good plans.
        with runtime.engine.begin() as connection:  # committed: ANALYZE's statistics are transactional
            connection.exec_driver_sql("ANALYZE")

    summary = {
        "consumer": {"email": DEMO_EMAIL, "password": password},
        "supplier": {
            "id": supplier.id,
            "name": supplier.name,
            "client_id": supplier_credentials.client_id,
            "client_secret": supplier_credentials.client_secret,
        },
        "auditor": {
            "id": auditor_id,
            "client_id": auditor_credentials.client_id,
            "client_secret": auditor_credentials.client_secret,
        },
        "supplier_operator": {
            "login": DEMO_SUPPLIER_OPERATOR,
            "password": operator_passwords[OperatorKind.SUPPLIER],
            "url": runtime.settings.issuer.rstrip("/") + "/supplier",
        },
        "auditor_operator": {
            "login": DEMO_AUDITOR_OPERATOR,
            "password": operator_passwords[OperatorKind.AUDITOR],
            "url": runtime.settings.issuer.rstrip("/") + "/audit",
        },
        "customers": customers,
        "seed": seed,
        "seeded_in_seconds": round(elapsed, 1),
        "customers_per_second": round(population / elapsed) if elapsed > 0 else None,
    }
    write_private_file(path, json.dumps(summary, indent=2).encode())
    return summary
