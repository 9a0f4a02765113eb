"""The baseline for `bench.load`: the same routes as the load mix, answering fixed bodies, with no middleware,
authentication, consent decision, encryption, policy log or database.

Sync routes, like the real ones, so both pay the same thread-pool hop; served by the same uvicorn options. The
ratio of the two servers' throughput on the same mix is what the product's own work costs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

_PROFILE: dict[str, Any] = {
    "fields": [
        {"key": key, "category": "demographics", "sensitive": False, "value": "x" * 12, "updated_at": None}
        for key in ("given_name", "family_name", "birth_date", "postal_code", "occupation", "interests")
    ]
}
_CONSENTS: dict[str, Any] = {
    "items": [
        {
            "id": f"con_{i:04d}",
            "supplier": {"id": "sup_bare", "name": "Demo Shop"},
            "purpose": "marketing",
            "category": "interests",
            "state": "given",
            "given_at": "2026-01-01T00:00:00Z",
        }
        for i in range(3)
    ],
    "next_cursor": None,
}
_CHANGE: dict[str, Any] = {"consent": _CONSENTS["items"][0], "receipt_id": "rcpt_bare", "receipt": "e" * 600}
_LOG: dict[str, Any] = {
    "entries": [
        {"leaf_index": i, "kind": "decision", "summary": "x" * 80, "proof": ["a" * 44] * 12} for i in range(5)
    ],
    "next_cursor": None,
}
_SUPPLIER: dict[str, Any] = {
    "id": "sup_bare",
    "name": "Demo Shop",
    "status": "active",
    "strikes": 0,
    "epsilon_remaining": 4.5,
    "balance": 1000,
    "created_at": "2026-01-01T00:00:00Z",
    "scopes": ["audiences:read"],
}
_COUNT: dict[str, Any] = {
    "count": 120,
    "suppressed": False,
    "minimum_cohort": 50,
    "epsilon_charged": 0.0,
    "epsilon_remaining": 4.5,
    "cached": True,
    "budget_resets_at": "2026-01-02T00:00:00Z",
}
_SLICE: dict[str, Any] = {
    "rows": [{"pseudonym": "p" * 43, "birth_month": "1985-04", "postal_prefix": "75", "interests": ["books"]}]
    * 20,
    "released": 20,
}
_RECOMMENDATIONS: dict[str, Any] = {
    "items": [
        {
            "id": f"sku:{i:05d}",
            "title": f"Item {i}",
            "categories": ["books"],
            "price": 1999,
            "currency": "EUR",
            "score": 0.5,
            "source": "als",
        }
        for i in range(1, 11)
    ],
    "discounts": [],
    "rules_fired": [],
}
_OFFER: dict[str, Any] = {
    "id": "off_bare",
    "purpose": "marketing",
    "expires_at": "2026-01-08T00:00:00Z",
    "budget_cap": 10000,
    "created_at": "2026-01-01T00:00:00Z",
    "withdrawn_at": None,
    "closed": False,
    "stats": {"delivered": 120, "viewed": None, "accepted": None, "minimum_cohort": 50},
    "released_identities": [],
}
_HEAD: dict[str, Any] = {
    "tree_size": 1000,
    "timestamp": 0,
    "sha256_root_hash": "r" * 44,
    "checkpoint": "c" * 300,
}
_PROOF: dict[str, Any] = {"leaf_index": 1, "audit_path": ["a" * 44] * 10}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/me/profile")
def profile() -> dict[str, Any]:
    return _PROFILE


@app.patch("/v1/me/profile")
def edit_profile(body: dict[str, Any] = Body()) -> dict[str, Any]:
    return _PROFILE


@app.get("/v1/me/consents")
def consents() -> dict[str, Any]:
    return _CONSENTS


@app.post("/v1/me/consents", status_code=201)
def answer(body: dict[str, Any] = Body()) -> dict[str, Any]:
    return _CHANGE


@app.post("/v1/me/consents/withdraw-all")
def withdraw_all() -> dict[str, Any]:
    return {"withdrawn": 3, "receipt_id": "rcpt_bare", "receipt": "e" * 600}


@app.get("/v1/me/log")
def my_log() -> dict[str, Any]:
    return _LOG


@app.get("/v1/me/offers")
def my_offers() -> dict[str, Any]:
    return {"offers": []}


@app.get("/v1/supplier")
def supplier() -> dict[str, Any]:
    return _SUPPLIER


@app.post("/v1/audiences/count")
def count(body: dict[str, Any] = Body()) -> dict[str, Any]:
    return _COUNT


@app.post("/v1/slices")
def take_slice(body: dict[str, Any] = Body()) -> dict[str, Any]:
    return _SLICE


@app.get("/v1/recommendations/{pseudonym}")
def recommendations(pseudonym: str) -> dict[str, Any]:
    return _RECOMMENDATIONS


@app.get("/v1/offers/{offer_id}")
def offer(offer_id: str) -> dict[str, Any]:
    return _OFFER


@app.get("/v1/audit/tree-head")
def tree_head() -> dict[str, Any]:
    return _HEAD


@app.get("/v1/audit/proofs/inclusion")
def inclusion() -> dict[str, Any]:
    return _PROOF


@app.get("/v1/audit/proofs/consistency")
def consistency() -> dict[str, Any]:
    return {"consistency": _PROOF["audit_path"]}
