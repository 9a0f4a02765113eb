"""The list reads the supplier console and the auditor view share with the API: a supplier's offers, log
search by supplier and purpose, tree heads over time, and checking an entry against a signed tree head."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infomediary.database import unit_of_work
from infomediary.policylog.inclusion_walkthrough import check_inclusion
from infomediary.policylog.merkle import leaf_hash
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, make_auditor, make_consumer, make_supplier
from tests.fixtures.consents import later, publish
from tests.fixtures.offers import post_offer_to_few
from tests.fixtures.policylog import sign_head


def _send(http: TestClient, runtime: Runtime, supplier: Client, content: str) -> str:
    body: dict[str, Any] = {
        "content": content,
        "purpose": "marketing",
        "predicate": {"eq": ["gender", "female"]},
        "reward_per_view": 1,
        "reward_per_acceptance": 5,
        "budget_cap": 100,
        "expires_at": later(),
    }
    headers = {**supplier.headers(http, "offers:write"), "Idempotency-Key": secrets.token_hex(8)}
    response = post_offer_to_few(runtime, body, headers)
    assert response.status_code == 201, response.text
    _RELEASED[response.json()["id"]] = response.json()["stats"]
    return str(response.json()["id"])


# The stats each offer released when it was sent (noisy, so not necessarily withheld for an empty audience).
_RELEASED: dict[str, dict[str, Any]] = {}


def test_a_supplier_lists_only_its_own_offers_newest_first_paged(http: TestClient, runtime: Runtime) -> None:
    mine, theirs = make_supplier(runtime), make_supplier(runtime)
    for supplier in (mine, theirs):
        publish(http, supplier, ["marketing"], ["demographics"])
    sent = [_send(http, runtime, mine, f"offer {i}") for i in range(3)]
    _send(http, runtime, theirs, "someone else's")
    headers = mine.headers(http, "offers:write")
    assert http.get("/v1/offers").status_code == 401
    assert http.get("/v1/offers", headers=make_auditor(runtime).headers(http)).status_code == 403
    first = http.get("/v1/offers?limit=2", headers=headers).json()
    second = http.get(f"/v1/offers?limit=2&cursor={first['next_cursor']}", headers=headers).json()
    listed = first["offers"] + second["offers"]
    assert [o["id"] for o in listed] == list(reversed(sent)) and second["next_cursor"] is None
    # The list shows what each offer last released (a noisy figure, withheld below k), never a draw of its
    # own and never an exact count: here, what the sending answered.
    assert all(o["stats"] == _RELEASED[o["id"]] for o in listed)
    assert all(o["stats"]["delivered"] is None or o["stats"]["delivered"] >= 10 for o in listed)
    assert all(o["content"].startswith("offer ") for o in listed)


def test_auditors_search_the_log_by_supplier_and_purpose(http: TestClient, runtime: Runtime) -> None:
    shop, other = make_supplier(runtime), make_supplier(runtime)
    publish(http, shop, ["marketing", "personalisation"], ["interests"])
    publish(http, other, ["marketing"], ["interests"])
    make_consumer(http)
    reader = make_auditor(runtime).headers(http, "audit:read")
    assert http.get("/v1/audit/log").status_code == 401
    assert http.get("/v1/audit/log", headers=shop.headers(http)).status_code == 403

    everything = http.get("/v1/audit/log?limit=200", headers=reader).json()["entries"]
    indexes = [e["leaf_index"] for e in everything]
    assert indexes == sorted(indexes, reverse=True) and len(indexes) >= 5
    of_shop = http.get(f"/v1/audit/log?supplier_id={shop.owner_id}", headers=reader).json()["entries"]
    assert of_shop and {e["supplier_id"] for e in of_shop} == {shop.owner_id}
    assert all(e["text"] for e in of_shop)
    published = http.get(
        f"/v1/audit/log?supplier_id={other.owner_id}&kind=policy.published", headers=reader
    ).json()["entries"]
    assert (
        len(published) == 1
        and published[0]["supplier_name"]
        == http.get("/v1/supplier", headers=other.headers(http)).json()["name"]
    )
    nothing = http.get(f"/v1/audit/log?supplier_id={other.owner_id}&purpose=nope", headers=reader).json()
    assert nothing == {"entries": [], "next_cursor": None}
    paged = http.get("/v1/audit/log?limit=2", headers=reader).json()
    rest = http.get(f"/v1/audit/log?limit=200&cursor={paged['next_cursor']}", headers=reader).json()
    assert [e["leaf_index"] for e in paged["entries"] + rest["entries"]] == indexes
    # What is shown is exactly the entry the leaf hash commits to.
    entry = base64.b64decode(everything[0]["leaf_input"])
    assert (
        http.get(f"/v1/audit/entries?start={indexes[0]}&end={indexes[0]}", headers=reader).json()["entries"][
            0
        ]["leaf_input"]
        == everything[0]["leaf_input"]
    )
    assert len(leaf_hash(entry)) == 32


def test_tree_heads_over_time(http: TestClient, runtime: Runtime) -> None:
    reader = make_auditor(runtime).headers(http, "audit:read")
    assert http.get("/v1/audit/tree-heads").status_code == 401
    assert http.get("/v1/audit/tree-heads", headers=make_supplier(runtime).headers(http)).status_code == 403
    writer_only = make_auditor(runtime).headers(http, "audit:write")
    assert http.get("/v1/audit/tree-heads", headers=writer_only).status_code == 403
    sizes = []
    for _ in range(3):
        make_consumer(http)
        sizes.append(sign_head(runtime).tree_size)
    heads = http.get("/v1/audit/tree-heads?limit=2", headers=reader).json()
    older = http.get(f"/v1/audit/tree-heads?cursor={heads['next_cursor']}", headers=reader).json()
    listed = [h["tree_size"] for h in heads["tree_heads"] + older["tree_heads"]]
    assert listed == list(reversed(sizes)) and older["next_cursor"] is None


def test_checking_an_entry_against_signed_tree_heads(http: TestClient, runtime: Runtime) -> None:
    make_consumer(http)
    kept = sign_head(runtime)  # the head an auditor saved earlier
    make_consumer(http)
    latest = sign_head(runtime)
    with unit_of_work(runtime.session_factory) as session:
        against_latest = check_inclusion(session, runtime, latest.tree_size - 1)
        assert against_latest.verified and against_latest.tree_size == latest.tree_size
        against_kept = check_inclusion(session, runtime, 0, kept.checkpoint.replace("\n", "\r\n"))
        assert against_kept.verified and against_kept.tree_size == kept.tree_size
        too_new = check_inclusion(session, runtime, kept.tree_size, kept.checkpoint)
        assert too_new.signature_ok and not too_new.proof_ok and "newer" in (too_new.problem or "")
        # A checkpoint whose root was changed no longer carries a valid signature.
        lines = kept.checkpoint.split("\n")
        root = base64.b64decode(lines[2])
        lines[2] = base64.b64encode(bytes([root[0] ^ 1]) + root[1:]).decode()
        forged = check_inclusion(session, runtime, 0, "\n".join(lines))
        assert not forged.verified and not forged.signature_ok and forged.problem


@pytest.mark.parametrize("leaf", [-1, 10**9])
def test_checking_a_missing_entry_is_a_clear_error(http: TestClient, runtime: Runtime, leaf: int) -> None:
    from infomediary.policylog.errors import BadLogRange

    make_consumer(http)
    sign_head(runtime)
    with unit_of_work(runtime.session_factory) as session, pytest.raises(BadLogRange):
        check_inclusion(session, runtime, leaf)
