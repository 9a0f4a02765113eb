"""A synthetic demo population, made through the same service functions the API uses.

One interactive consumer (with a password) plus many synthetic customers who never log in (their password
hash is a disabled marker, as in /etc/shadow, so seeding a large population costs no argon2 work), a demo
supplier with every scope and an auditor, and one operator each for the supplier console and the auditor
view. Logins are written to `<data_dir>/demo.json` (mode 0600).

Every customer gets their own data key and a synthetic profile, activity and purchases
(`infomediary.profiles.synthetic`, reproducible from the seed), written through the same profile and
activity services the API uses, so everything lands encrypted exactly as a real customer's data would.
"""

from __future__ import annotations

import json
import random
import secrets
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from infomediary.audiences import index as audience_index
from infomediary.auditors import service as auditors
from infomediary.customers import service as customers_service
from infomediary.customers.blind_index import email_index
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work, utcnow
from infomediary.ids import new_id
from infomediary.keymaterial import write_private_file
from infomediary.operators import service as operators
from infomediary.operators.models import OperatorKind
from infomediary.profiles import activity, datakeys, synthetic
from infomediary.profiles import service as profiles
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.profiles.records import ActivityIn
from infomediary.runtime import Runtime
from infomediary.settings import SUPPLIER_SCOPES
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.models import Supplier

DEMO_SUPPLIER = "Demo Shop"
DEMO_AUDITOR = "Demo Auditor"
DEMO_EMAIL = "demo@example.org"
DEMO_SUPPLIER_OPERATOR = "operator@shop.example.org"
DEMO_AUDITOR_OPERATOR = "auditor@audit.example.org"
DISABLED_PASSWORD = "!"  # noqa: S105 - not an argon2 hash: verification always fails, so these accounts cannot log in
# Customers per transaction: each brings a dozen fields and a few dozen activity records.
BATCH = 250
_RECORDS = TypeAdapter(list[ActivityIn])


def _populate(
    session: Session, runtime: Runtime, cipher: CustomerCipher, rng: random.Random, now: datetime, email: str
) -> None:
    values = synthetic.profile(rng, now.date())
    values["email"] = email
    profiles.apply_changes(
        session, runtime, cipher.customer_id, values, actor="demo", now=now, cipher=cipher, index=False
    )
    records = _RECORDS.validate_python(synthetic.activity(rng, now))
    if records:
        activity.record(session, runtime, cipher.customer_id, records, cipher=cipher)
    # Once, after profile and purchases are both in: the row needs the RFM bands too.
    audience_index.refresh(session, runtime, cipher.customer_id, now)


def seed_demo(
    runtime: Runtime, *, customers: int, seed: int, console: Console | None = None
) -> dict[str, Any]:
    path = runtime.settings.data_dir / "demo.json"
    with unit_of_work(runtime.session_factory) as session:
        if session.scalar(select(Supplier.id).where(Supplier.name == DEMO_SUPPLIER)) is not None:
            if path.exists():
                summary: dict[str, Any] = json.loads(path.read_text())
                summary["note"] = "demo already seeded; logins are in demo.json"
                return summary
            return {"note": "demo already seeded, but demo.json is gone: its secrets cannot be shown again"}

    # The population is reproducible from the seed; the one real password is not.
    password = "demo-" + secrets.token_urlsafe(12)
    key = runtime.keys.secret("blind_index")
    rng = random.Random(seed)  # noqa: S311 - synthetic data must be reproducible from the seed, not secret
    with unit_of_work(runtime.session_factory) as session:
        account = customers_service.register(session, runtime, email=DEMO_EMAIL, password=password)
        _populate(
            session,
            runtime,
            datakeys.cipher_for(session, runtime, account.customer_id),
            rng,
            utcnow(),
            DEMO_EMAIL,
        )
        supplier, supplier_credentials = suppliers.add(
            session, name=DEMO_SUPPLIER, scopes=list(SUPPLIER_SCOPES)
        )
        auditor_id, auditor_credentials = auditors.add(session, name=DEMO_AUDITOR)
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
    with Progress(console=console, transient=True, disable=console is None) as progress:
        task = progress.add_task("seeding customers", total=population)
        for start in range(0, population, BATCH):
            now = utcnow()
            emails = [
                f"customer{seed}-{i}@demo.example.org" for i in range(start, min(start + BATCH, population))
            ]
            ids = [new_id("cus") for _ in emails]
            rows = [
                {
                    "id": customer_id,
                    "email_index": email_index(key, email),
                    "password_hash": DISABLED_PASSWORD,
                    "status": "active",
                    "created_at": now,
                    "password_changed_at": now,
                }
                for customer_id, email in zip(ids, emails, strict=True)
            ]
            with unit_of_work(runtime.session_factory) as session:
                session.execute(insert(Customer), rows)
                ciphers = datakeys.create(session, runtime, ids)
                for cipher, email in zip(ciphers, emails, strict=True):
                    _populate(session, runtime, cipher, rng, now, email)
            progress.advance(task, len(rows))

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
    }
    write_private_file(path, json.dumps(summary, indent=2).encode())
    return summary
