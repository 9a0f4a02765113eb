"""The auditor's routes and the customer's log view, as each actor sees them."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from fastapi.testclient import TestClient

from infomediary.database import unit_of_work
from infomediary.policylog import kinds, treehead
from infomediary.policylog.checkpoint import open_checkpoint
from infomediary.policylog.merkle import leaf_hash
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion
from infomediary.policylog.service import append_many, log_pseudonym
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier
from tests.fixtures.policylog import fill_log, sign_head

READS = [
    "/v1/audit/tree-head",
    "/v1/audit/entries?start=0&end=0",
    "/v1/audit/proofs/inclusion?leaf_index=0&tree_size=1",
    "/v1/audit/proofs/consistency?first=0&second=1",
    "/v1/audit/reports/processing",
    "/v1/audit/reports/article30",
]
WRITES = {
    "/v1/audit/findings": {"supplier_id": "sup_x", "severity": "low", "text": "late deletion"},
    "/v1/audit/sanctions": {"supplier_id": "sup_x", "kind": "warning", "reason": "late deletion"},
}


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_audit_routes_need_an_auditor_with_the_right_scope(runtime: Runtime, http: TestClient) -> None:
    fill_log(runtime, 1)
    consumer = make_consumer(http)
    supplier = make_supplier(runtime).headers(http)
    reader = make_auditor(runtime).headers(http, scope="audit:read")
    writer = make_auditor(runtime).headers(http, scope="audit:write")
    for path in READS:
        assert http.get(path).status_code == 401, path
        assert http.get(path, headers=consumer.headers).status_code == 401, path
        assert http.get(path, headers=supplier).status_code == 403, path
        assert http.get(path, headers=writer).status_code == 403, path
        assert http.get(path, headers=reader).status_code == 200, path
    for path, body in WRITES.items():
        assert http.post(path, json=body).status_code == 401, path
        assert http.post(path, json=body, headers=supplier).status_code == 403, path
        assert http.post(path, json=body, headers=reader).status_code == 403, path
        # An unknown supplier is a 404, and nothing is logged for it.
        assert http.post(path, json=body, headers=writer).status_code == 404, path
    logged = http.get("/v1/audit/entries?start=0&end=5", headers=reader).json()["entries"]
    assert [e["kind"] for e in logged] == [
        kinds.DECISION,
        kinds.ACCOUNT_REGISTERED,
        kinds.SUPPLIER_REGISTERED,
    ]


def test_tree_head_entries_and_proofs_verify_independently(runtime: Runtime, http: TestClient) -> None:
    fill_log(runtime, 10)
    reader = make_auditor(runtime).headers(http, scope="audit:read")
    key = http.get("/.well-known/policy-log-key").json()
    head = http.get("/v1/audit/tree-head", headers=reader).json()
    checkpoint = open_checkpoint(head["checkpoint"], key["verifier_key"], key["origin"])
    assert checkpoint.size == head["tree_size"] == 10
    assert checkpoint.root_hash == _b64(head["sha256_root_hash"])
    entries = http.get("/v1/audit/entries?start=0&end=9", headers=reader).json()["entries"]
    assert [e["leaf_index"] for e in entries] == list(range(10))
    for entry in entries:
        proof = http.get(
            f"/v1/audit/proofs/inclusion?leaf_index={entry['leaf_index']}&tree_size=10", headers=reader
        )
        assert proof.status_code == 200
        path = [_b64(p) for p in proof.json()["audit_path"]]
        verify_inclusion(
            leaf_hash(_b64(entry["leaf_input"])), entry["leaf_index"], 10, path, checkpoint.root_hash
        )
    old_root = checkpoint.root_hash
    fill_log(runtime, 7, start=10)
    with unit_of_work(runtime.session_factory) as session:
        new = treehead.sign(session, runtime)
    consistency = http.get("/v1/audit/proofs/consistency?first=10&second=17", headers=reader).json()[
        "consistency"
    ]
    verify_consistency(10, 17, old_root, new.root_hash, [_b64(c) for c in consistency])


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/v1/audit/entries?start=5&end=2", 400),
        ("/v1/audit/entries?start=3&end=4", 400),
        ("/v1/audit/entries?start=-1&end=2", 422),
        ("/v1/audit/entries?start=0", 422),
        ("/v1/audit/proofs/inclusion?leaf_index=3&tree_size=3", 400),
        ("/v1/audit/proofs/inclusion?leaf_index=0&tree_size=4", 400),
        ("/v1/audit/proofs/consistency?first=2&second=1", 400),
        ("/v1/audit/proofs/consistency?first=1&second=9", 400),
        ("/v1/audit/reports/processing?format=xml", 422),
    ],
)
def test_bad_ranges_are_problems(runtime: Runtime, http: TestClient, query: str, status: int) -> None:
    fill_log(runtime, 1)
    reader = make_auditor(runtime).headers(http, scope="audit:read")  # registering an auditor logs nothing
    response = http.get(query, headers=reader)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_entries_are_capped_per_call(runtime: Runtime, http: TestClient) -> None:
    fill_log(runtime, 1200)
    reader = make_auditor(runtime).headers(http, scope="audit:read")
    got = http.get("/v1/audit/entries?start=0&end=1199", headers=reader).json()["entries"]
    assert len(got) == 1000


def test_processing_report_and_record_of_processing(runtime: Runtime, http: TestClient) -> None:
    supplier = make_supplier(runtime, name="Acme")
    subject = "cd" * 32
    with unit_of_work(runtime.session_factory) as session:
        common = {"subject": subject, "supplier_id": supplier.owner_id, "purpose": "marketing"}
        append_many(
            session,
            [
                {**common, "kind": kinds.DECISION, "decision": "permit", "reason": "consent given"},
                {**common, "kind": kinds.DECISION, "decision": "permit", "reason": "consent given"},
                {**common, "kind": kinds.DECISION, "decision": "deny", "reason": "consent withdrawn"},
                {
                    "kind": kinds.RELEASE,
                    "supplier_id": supplier.owner_id,
                    "purpose": "marketing",
                    "release": {
                        "kind": "audience",
                        "categories": ["interests"],
                        "count": 120,
                        "epsilon_milli": 250,
                    },
                },
            ],
        )
    reader = make_auditor(runtime).headers(http, scope="audit:read")
    [row] = http.get("/v1/audit/reports/processing", headers=reader).json()["rows"]
    assert row == {
        "supplier_id": supplier.owner_id,
        "supplier_name": "Acme",
        "purpose": "marketing",
        "decisions": 3,
        "permits": 2,
        "denies": 1,
        "releases": 1,
        "customers_released": 120,
        "epsilon_spent": 0.25,
    }
    as_csv = http.get("/v1/audit/reports/processing?format=csv", headers=reader)
    assert as_csv.headers["content-type"].startswith("text/csv")
    [csv_row] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert csv_row["permits"] == "2" and csv_row["epsilon_spent"] == "0.25"
    record = http.get("/v1/audit/reports/article30", headers=reader).json()
    assert record["purposes"] == ["marketing"]
    assert record["categories_of_data"] == ["interests"]
    assert record["data_subjects"] == 1
    assert [r["name"] for r in record["recipients"]] == ["Acme"]
    assert record["recipients"][0]["purposes"] == ["marketing"]
    assert subject not in as_csv.text and subject not in str(record)


def test_findings_and_sanctions_are_logged_and_a_suspension_bites_at_once(
    runtime: Runtime, http: TestClient
) -> None:
    supplier = make_supplier(runtime)
    supplier_headers = supplier.headers(http)
    assert http.get("/v1/supplier", headers=supplier_headers).status_code == 200
    writer = make_auditor(runtime).headers(http, scope="audit:write")
    reader = make_auditor(runtime).headers(http, scope="audit:read")
    finding = http.post(
        "/v1/audit/findings",
        json={"supplier_id": supplier.owner_id, "severity": "high", "text": "kept data past its retention"},
        headers=writer,
    )
    assert finding.status_code == 201, finding.text
    too_long = {"supplier_id": supplier.owner_id, "severity": "high", "text": "x" * 4001}
    assert http.post("/v1/audit/findings", json=too_long, headers=writer).status_code == 422
    extra = {"supplier_id": supplier.owner_id, "kind": "warning", "reason": "r", "fine": 5}
    assert http.post("/v1/audit/sanctions", json=extra, headers=writer).status_code == 422
    sanction = http.post(
        "/v1/audit/sanctions",
        json={"supplier_id": supplier.owner_id, "kind": "suspension", "reason": "repeated violations"},
        headers=writer,
    )
    assert sanction.status_code == 201, sanction.text
    assert http.get("/v1/supplier", headers=supplier_headers).status_code == 403
    logged = http.get(f"/v1/audit/entries?start={finding.json()['leaf_index']}&end=99", headers=reader).json()
    assert [e["kind"] for e in logged["entries"]] == [
        kinds.FINDING_RECORDED,
        kinds.SANCTION_RECORDED,
        kinds.SUPPLIER_STATUS_CHANGED,
    ]
    # The finding's prose stays out of the log; a hash commits to it.
    assert b"retention" not in _b64(logged["entries"][0]["leaf_input"])


def test_my_log_shows_only_my_entries_in_plain_words_with_proofs(runtime: Runtime, http: TestClient) -> None:
    assert http.get("/v1/me/log").status_code == 401
    supplier = make_supplier(runtime, name="Acme").headers(http, scope="audiences:read")
    me = make_consumer(http)
    other = make_consumer(http)
    acme_id = make_supplier(runtime, name="Bolt").owner_id
    sign_head(runtime)  # a head signed just now: the next is not due for a while
    with unit_of_work(runtime.session_factory) as session:
        append_many(
            session,
            [
                {
                    "kind": kinds.DECISION,
                    "subject": log_pseudonym(runtime, me.id),
                    "supplier_id": acme_id,
                    "purpose": "direct_marketing",
                    "decision": "deny",
                    "reason": "consent_refused",
                },
                {
                    "kind": kinds.CONSENT_GRANTED,
                    "subject": log_pseudonym(runtime, other.id),
                    "supplier_id": acme_id,
                },
            ],
        )
    assert http.get("/v1/me/log", headers=supplier).status_code == 401
    # Newer entries than the last head wait for the next one, shown but unproven.
    pending = http.get("/v1/me/log", headers=me.headers).json()["entries"]
    assert pending[-1]["audit_path"] is None
    sign_head(runtime)
    body = http.get("/v1/me/log", headers=me.headers).json()
    assert [e["kind"] for e in body["entries"]] == [kinds.ACCOUNT_REGISTERED, kinds.DECISION]
    assert (
        "Bolt asked to use your data for offers sent to you: denied, because you refused consent."
        in body["entries"][1]["text"]
    )
    assert me.id not in str(body)
    key = http.get("/.well-known/policy-log-key").json()
    checkpoint = open_checkpoint(body["tree_head"]["checkpoint"], key["verifier_key"], key["origin"])
    for entry in body["entries"]:
        path = [_b64(p) for p in entry["audit_path"]]
        verify_inclusion(
            leaf_hash(_b64(entry["leaf_input"])),
            entry["leaf_index"],
            checkpoint.size,
            path,
            checkpoint.root_hash,
        )
    # Paging: one at a time, following the cursor.
    first = http.get("/v1/me/log?limit=1", headers=me.headers).json()
    assert len(first["entries"]) == 1 and first["next_cursor"]
    second = http.get(f"/v1/me/log?limit=1&cursor={first['next_cursor']}", headers=me.headers).json()
    assert second["entries"][0]["kind"] == kinds.DECISION and second["next_cursor"] is None
    assert http.get("/v1/me/log?cursor=abc", headers=me.headers).status_code == 422
    theirs = http.get("/v1/me/log", headers=other.headers).json()
    assert [e["kind"] for e in theirs["entries"]] == [kinds.ACCOUNT_REGISTERED, kinds.CONSENT_GRANTED]
