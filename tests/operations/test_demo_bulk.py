"""The demo's bulk seeder writes what the services would: customers made in bulk read back, export, erase and
count through the normal paths, their index rows equal what the index service recomputes from the vault,
and the policy log holds each registration."""

from __future__ import annotations

import random
import shutil
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from infomediary import demo
from infomediary.audiences import index as audience_index
from infomediary.audiences.models import AudienceIndexRow
from infomediary.customers import directory
from infomediary.customers import repository as customers
from infomediary.customers.blind_index import email_index
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work, utcnow
from infomediary.demo import DEMO_EMAIL, seed_demo
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.service import log_pseudonym
from infomediary.profiles import synthetic
from infomediary.profiles.models import ActivityRecord, ProfileChange, ProfileField
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, erase

CUSTOMERS = 300
SEED = 23


def _email(i: int) -> str:
    return f"customer{SEED}-{i}@demo.example.org"


def _expected_profiles() -> list[dict[str, Any]]:
    """The profiles the seed draws, in order (the interactive consumer first), regenerated independently."""
    rng = random.Random(SEED)
    now = utcnow()
    drawn = []
    for _ in range(CUSTOMERS):
        drawn.append(synthetic.profile(rng, now.date()))
        synthetic.activity(rng, now)
    return drawn


@pytest.fixture
def seeded(runtime: Runtime) -> dict[str, Any]:
    # Batches of 128: several transactions, the last one partial.
    return seed_demo(runtime, customers=CUSTOMERS, seed=SEED, batch=128)


def _login_as(runtime: Runtime, http: TestClient, email: str) -> dict[str, str]:
    """Give one demo customer a password (as an operator would) and log in through the API."""
    with unit_of_work(runtime.session_factory) as session:
        subject_id = directory.subject_by_login(
            session, runtime, email_index(runtime.keys.secret("blind_index"), email)
        )
        customer = customers.get(session, subject_id) if subject_id is not None else None
        assert customer is not None, "the login blind index of a bulk-made customer must find them"
        customer.password_hash = runtime.passwords.hash(PASSWORD)
    login = http.post("/v1/session", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _all(http: TestClient, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = ""
    while cursor is not None:
        page = http.get(path, params={"cursor": cursor} if cursor else {}, headers=headers)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
    return items


def test_a_bulk_made_customer_reads_back_through_the_api(
    runtime: Runtime, http: TestClient, seeded: dict[str, Any]
) -> None:
    assert seeded["customers"] == CUSTOMERS
    expected = _expected_profiles()
    for i in (0, 150, CUSTOMERS - 2):  # the first, a middle and the last bulk-made customer
        headers = _login_as(runtime, http, _email(i))
        fields = {f["key"]: f for f in http.get("/v1/me/profile", headers=headers).json()["fields"]}
        want = expected[i + 1]
        for key in ("given_name", "family_name", "postal_code", "city", "interests", "gender", "birth_date"):
            assert fields[key]["value"] == want[key], key
            assert fields[key]["source"] == "demo"
        assert fields["email"]["value"] == _email(i)
        stored = [key for key, f in fields.items() if f["value"] is not None]
        history = _all(http, "/v1/me/profile/history", headers)
        assert sorted(h["field"] for h in history) == sorted(stored)
        assert all(h["old"] is None and h["actor"] == "demo" for h in history)
        activity = _all(http, "/v1/me/activity", headers)
        times = [a["occurred_at"] for a in activity]
        assert all(a["record"]["kind"] == a["kind"] for a in activity)
        assert times == sorted(times)
        export = http.get("/v1/me/export", headers=headers)
        assert export.status_code == 200 and _email(i) in export.text


def test_index_rows_equal_what_the_index_service_recomputes_from_the_vault(
    runtime: Runtime, seeded: dict[str, Any]
) -> None:
    columns = [c for c in AudienceIndexRow.__table__.columns.keys() if c != "updated_at"]  # noqa: SIM118

    def rows(session: Any) -> dict[str, tuple[Any, ...]]:
        return {
            row.customer_id: tuple(getattr(row, c) for c in columns)
            for row in session.scalars(select(AudienceIndexRow))
        }

    with unit_of_work(runtime.session_factory) as session:
        bulk = rows(session)
        assert len(bulk) == CUSTOMERS
        assert {r[columns.index("rfm_monetary_band")] for r in bulk.values()} - {None}, "no purchases seeded"
        # The index service, decrypting each customer's profile and purchases the normal way. `now` only
        # moves the RFM windows; the seeder's batches ran within the same second or so.
        for customer_id in bulk:
            audience_index.refresh(session, runtime, customer_id)
        session.flush()
        session.expire_all()
        assert rows(session) == bulk


def test_the_policy_log_records_each_registration_and_counts_match(
    runtime: Runtime, seeded: dict[str, Any]
) -> None:
    with unit_of_work(runtime.read_session_factory) as session:
        ids = session.scalars(select(Customer.id)).all()
        registered = session.scalar(
            select(func.count())
            .select_from(PolicyLogEntry)
            .where(PolicyLogEntry.kind == kinds.ACCOUNT_REGISTERED)
        )
        assert registered == CUSTOMERS == len(ids)
        subjects = set(
            session.scalars(
                select(PolicyLogEntry.subject).where(PolicyLogEntry.kind == kinds.ACCOUNT_REGISTERED)
            )
        )
        assert subjects == {log_pseudonym(runtime, cid) for cid in ids}
        # A dozen-odd fields each, every one with its history entry, and a few dozen records each.
        fields = session.scalar(select(func.count()).select_from(ProfileField)) or 0
        changes = session.scalar(select(func.count()).select_from(ProfileChange)) or 0
        records = session.scalar(select(func.count()).select_from(ActivityRecord)) or 0
        assert fields == changes and fields > 12 * CUSTOMERS
        assert records > 10 * CUSTOMERS


def test_erasing_a_bulk_made_customer_removes_them_everywhere(
    runtime: Runtime, http: TestClient, seeded: dict[str, Any]
) -> None:
    headers = _login_as(runtime, http, _email(7))
    erased = erase(http, headers)
    assert erased.status_code == 200, erased.text
    account = erased.json()["account"]
    with unit_of_work(runtime.read_session_factory) as session:
        assert session.get(Customer, account) is None
        assert session.get(AudienceIndexRow, account) is None
        assert session.scalar(select(func.count()).select_from(Customer)) == CUSTOMERS - 1
    assert http.post("/v1/session", json={"email": _email(7), "password": PASSWORD}).status_code == 401


def test_the_demo_consumer_still_logs_in_with_the_printed_password(
    http: TestClient, seeded: dict[str, Any]
) -> None:
    login = http.post("/v1/session", json={"email": DEMO_EMAIL, "password": seeded["consumer"]["password"]})
    assert login.status_code == 200, login.text


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def test_a_population_that_would_not_fit_on_the_disk_is_refused_before_anything_is_written(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("only a SQLite file shares the data directory's disk")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: _Usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(demo.NotEnoughDisk, match="need about"):
        seed_demo(runtime, customers=1_000_000, seed=SEED)
    with unit_of_work(runtime.read_session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
