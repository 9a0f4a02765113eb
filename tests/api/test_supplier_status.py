"""The supplier status machine: strikes move a supplier along active → warned → throttled → suspended."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import ORDINARY, later, pseudonym_for, publish


def test_strikes_raise_the_status_and_suspension_stops_tokens_at_once(
    http: TestClient, runtime: Runtime
) -> None:
    settings = runtime.settings
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    token = supplier.headers(http)
    writer = auditor.headers(http)
    start = http.get("/v1/supplier", headers=token).json()
    assert start["status"] == "active" and start["strikes"] == 0
    assert start["epsilon_remaining"] == settings.audience_epsilon_budget
    assert start["ledger_balance"] == 0 and start["credit_line"] == settings.supplier_credit_line

    seen = []
    strike = {"supplier_id": supplier.owner_id, "kind": "strike", "reason": "budget abuse"}
    for n in range(1, settings.sanctions_suspended_at_strikes):
        assert http.post("/v1/audit/sanctions", json=strike, headers=writer).status_code == 201
        me = http.get("/v1/supplier", headers=token).json()
        assert me["strikes"] == n
        seen.append(me["status"])
    assert seen[0] == "warned" and seen[-1] == "throttled"
    assert seen.index("throttled") == settings.sanctions_throttled_at_strikes - 1
    throttled = http.get("/v1/supplier", headers=token).json()
    assert (
        throttled["epsilon_remaining"]
        == settings.audience_epsilon_budget * settings.throttled_epsilon_fraction
    )

    assert http.post("/v1/audit/sanctions", json=strike, headers=writer).status_code == 201
    refused = http.get("/v1/supplier", headers=token)
    assert refused.status_code == 403

    with runtime.read_session_factory() as session:
        changes = session.scalars(
            select(PolicyLogEntry.entry).where(
                PolicyLogEntry.kind == kinds.SUPPLIER_STATUS_CHANGED,
                PolicyLogEntry.supplier_id == supplier.owner_id,
            )
        ).all()
    assert len(changes) == 3
    assert [s for s in ("warned", "throttled", "suspended") if any(s.encode() in c for c in changes)] == [
        "warned",
        "throttled",
        "suspended",
    ]


def test_a_warning_warns_without_a_strike(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime)
    auditor = make_auditor(runtime)
    warning = {"supplier_id": supplier.owner_id, "kind": "warning", "reason": "late deletion"}
    assert http.post("/v1/audit/sanctions", json=warning, headers=auditor.headers(http)).status_code == 201
    me = http.get("/v1/supplier", headers=supplier.headers(http)).json()
    assert me["status"] == "warned" and me["strikes"] == 0


def test_asking_for_an_undeclared_category_earns_a_strike(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ORDINARY)
    body = {
        "pseudonym": pseudonym_for(http, consumer, supplier),
        "purpose": "marketing",
        "categories": ["health"],
        "expires_at": later(),
    }
    headers = supplier.headers(http)
    assert http.post("/v1/requests", json=body, headers=headers).status_code == 403
    me = http.get("/v1/supplier", headers=headers).json()
    assert me["strikes"] == 1 and me["status"] == "warned"
