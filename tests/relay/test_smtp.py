"""Issue 20, the relay over real SMTP sessions on loopback: a supplier's mail server (smtplib) sends to her
relay address, the relay (aiosmtpd) decides it, and her own mailbox (another aiosmtpd) receives the forward,
DKIM-signed for the relay domain; whatever is refused is refused at SMTP time, and nothing of it is kept,
logged as relayed or forwarded."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from email.headerregistry import Address

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.aliases import service as aliases
from infomediary.customers import directory
from infomediary.customers.blind_index import email_index
from infomediary.database import unit_of_work
from infomediary.policylog import kinds
from infomediary.relay import dkim_signing
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.actors import Client, Consumer, erase, make_consumer, make_supplier
from tests.fixtures.consents import grant, publish
from tests.fixtures.policylog import sign_head
from tests.fixtures.raw_scan import raw_database_bytes
from tests.fixtures.relay import (
    DOMAIN,
    Relay,
    bind_sending_domain,
    message,
    relay_server,
    supplier_key,
    with_mailbox,
)
from tests.fixtures.smtp import Inbox, smtp_server
from tests.pages.conftest import sign_up

SUPPLIER = "Acme Books"


@dataclass
class Scene:
    http: TestClient
    consumer: Consumer
    supplier: Client
    alias: str
    relay: Relay
    mailbox: Inbox


@pytest.fixture
def scene(http: TestClient, runtime: Runtime) -> Iterator[Scene]:
    """Acme Books declares direct marketing and service messages for contact data and binds its sending
    domain; she allows it service messages, which gives it her relay address; the relay runs, forwarding to
    her mailbox."""
    supplier = make_supplier(runtime, name=SUPPLIER)
    publish(http, supplier, ["direct_marketing", "service_messages"], ["contact"])
    bind_sending_domain(http, supplier)
    consumer = make_consumer(http)
    assert grant(http, consumer, supplier.owner_id, "service_messages", "contact").status_code == 201
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    with smtp_server() as mailbox, relay_server(with_mailbox(runtime, mailbox)) as relay:
        yield Scene(http, consumer, supplier, alias["address"], relay, mailbox.inbox)


def _relayed(scene: Scene) -> list[dict[str, object]]:
    found = scene.http.get("/v1/me/relayed-messages", headers=scene.consumer.headers)
    assert found.status_code == 200, found.text
    return list(found.json()["messages"])


def _refused(scene: Scene, raw: bytes, *, to: str | None = None, at: str = "data") -> None:
    """The relay refuses with a 5xx at `at` (rcpt or data), saying no more than "not accepted", and keeps,
    forwards and logs as relayed nothing."""
    if at == "rcpt":
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            scene.relay.send(to or scene.alias, raw)
        [(code, reply)] = refused.value.recipients.values()
    else:
        with pytest.raises(smtplib.SMTPDataError) as data_refused:
            scene.relay.send(to or scene.alias, raw)
        code, reply = data_refused.value.smtp_code, data_refused.value.smtp_error
    assert 500 <= code < 600 and reply.endswith(b"not accepted"), (code, reply)
    scene.relay.finish_sending()
    assert scene.mailbox.received == []
    assert _relayed(scene) == []
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    assert not [e for e in log["entries"] if e["kind"] == kinds.RELAY_MESSAGE_RELAYED]


def test_a_signed_message_reaches_her_mailbox_from_her_alias_signed_for_the_relay_domain(
    scene: Scene, runtime: Runtime
) -> None:
    raw = message(scene.alias, subject="Your order has shipped", text="Parcel 4411 leaves today.\n")
    assert scene.relay.send(scene.alias, raw) == {}
    [received] = scene.mailbox.wait_for(scene.consumer.email)
    forwarded = received.message
    sender = forwarded["From"].addresses[0]
    assert isinstance(sender, Address)
    assert sender.addr_spec == scene.alias and SUPPLIER in sender.display_name
    assert forwarded["Subject"] == "Your order has shipped"
    assert forwarded["X-Infomediary-Supplier"] == SUPPLIER
    # The relay's own part first (who wrote, the report link), then the supplier's message.
    assert forwarded.get_content_type() == "multipart/mixed"
    intro, original = forwarded.iter_parts()
    assert SUPPLIER in intro.get_content() and "/relay/report/" in intro.get_content()
    assert "Parcel 4411 leaves today." in original.get_content()
    assert scene.supplier.owner_id not in forwarded.as_string()
    # Signed for the relay domain, with the key whose record `relay dkim-record` prints.
    assert forwarded["DKIM-Signature"] is not None
    assert dkim_signing.verify(
        forwarded.as_bytes(),
        domain=runtime.settings.relay_domain,
        selector=runtime.settings.relay_dkim_selector,
        record=dkim_signing.dns_record(runtime.keys),
    )

    # In her privacy centre: listed and readable through the API ...
    [listed] = _relayed(scene)
    assert listed["subject"] == "Your order has shipped" and listed["supplier_name"] == SUPPLIER
    assert listed["purpose"] == "service_messages"
    one = scene.http.get(f"/v1/me/relayed-messages/{listed['id']}", headers=scene.consumer.headers)
    assert one.status_code == 200 and "Parcel 4411 leaves today." in one.json()["text"]
    # ... and in her log, with its inclusion proof once a tree head is signed.
    sign_head(runtime)
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    [entry] = [e for e in log["entries"] if e["kind"] == kinds.RELAY_MESSAGE_RELAYED]
    assert entry["supplier_id"] == scene.supplier.owner_id and entry["audit_path"] is not None
    assert SUPPLIER in entry["text"] and "relay address" in entry["text"]
    assert [e for e in log["entries"] if e["kind"] == kinds.DECISION and e["decision"] == "permit"]


def test_her_relay_page_lists_the_alias_and_reads_the_message(runtime: Runtime) -> None:
    """The same path, seen on her pages: the alias with its supplier and switch, the message as text."""
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as browser:
        browser.headers["accept"] = "text/html"
        sign_up(browser, "ada@example.org")
        supplier = make_supplier(runtime, name=SUPPLIER)
        publish(browser, supplier, ["service_messages"], ["contact"])
        bind_sending_domain(browser, supplier)
        index = email_index(runtime.keys.secret("blind_index"), "ada@example.org")
        subject_id = directory.subject_by_login(runtime.session_factory(), runtime, index)
        assert subject_id is not None
        with unit_of_work(runtime.session_factory) as session:
            made = aliases.ensure(session, runtime, subject_id, supplier.owner_id)
        assert made is not None
        with smtp_server() as mailbox, relay_server(with_mailbox(runtime, mailbox)) as relay:
            relay.send(
                made.address, message(made.address, subject="Booking confirmed", text="<b>Room 12</b>")
            )
            mailbox.inbox.wait_for("ada@example.org")
        page = browser.get("/relay")
        assert page.status_code == 200
        assert made.address in page.text and SUPPLIER in page.text and "Booking confirmed" in page.text
        assert 'action="/relay/' in page.text
        link = page.text.split('href="/relay/messages/')[1].split('"')[0]
        read = browser.get(f"/relay/messages/{link}")
        assert read.status_code == 200 and "Room 12" in read.text
        # Its HTML is shown as text: escaped, never markup.
        assert "<b>Room 12</b>" not in read.text


def test_a_message_with_bulk_markers_is_direct_marketing(scene: Scene) -> None:
    raw = message(scene.alias, subject="Spring sale", headers={"List-Unsubscribe": f"<mailto:u@{DOMAIN}>"})
    scene.relay.send(scene.alias, raw)
    scene.mailbox.wait_for(scene.consumer.email)
    [listed] = _relayed(scene)
    assert listed["purpose"] == "direct_marketing"


@pytest.mark.parametrize(
    "case",
    ["unsigned", "signed_with_another_key", "signed_for_another_domain", "from_outside_the_domain"],
)
def test_mail_that_fails_the_sender_check_is_refused_at_smtp_time(scene: Scene, case: str) -> None:
    raw = {
        "unsigned": lambda: message(scene.alias, sign_as=None),
        "signed_with_another_key": lambda: message(scene.alias, key=supplier_key(1)),
        "signed_for_another_domain": lambda: message(
            scene.alias, sign_as="evil.example", sender="Acme <orders@evil.example>"
        ),
        "from_outside_the_domain": lambda: message(scene.alias, sender="Acme <orders@acme-books.example>"),
    }[case]()
    _refused(scene, raw)


def test_a_message_altered_after_signing_is_refused(scene: Scene) -> None:
    raw = message(scene.alias, text="Pay 10 EUR.\n").replace(b"Pay 10 EUR.", b"Pay 99 EUR.")
    _refused(scene, raw)


def test_a_switched_off_alias_refuses_at_rcpt_and_a_switched_on_one_takes_mail_again(scene: Scene) -> None:
    [alias] = scene.http.get("/v1/me/aliases", headers=scene.consumer.headers).json()["aliases"]
    off = scene.http.post(
        f"/v1/me/aliases/{alias['id']}/switch", json={"on": False}, headers=scene.consumer.headers
    )
    assert off.status_code == 200 and off.json()["on"] is False
    _refused(scene, message(scene.alias), at="rcpt")
    on = scene.http.post(
        f"/v1/me/aliases/{alias['id']}/switch", json={"on": True}, headers=scene.consumer.headers
    )
    assert on.json()["on"] is True
    scene.relay.send(scene.alias, message(scene.alias))
    scene.mailbox.wait_for(scene.consumer.email)


def test_a_withdrawn_consent_refuses_at_smtp_time_and_the_denial_is_logged(scene: Scene) -> None:
    records = scene.http.get("/v1/me/consents", headers=scene.consumer.headers).json()["items"]
    [record] = [r for r in records if r["purpose"]["key"] == "service_messages"]
    withdrawn = scene.http.post(f"/v1/me/consents/{record['id']}/withdraw", headers=scene.consumer.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    _refused(scene, message(scene.alias))
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    denied = [e for e in log["entries"] if e["kind"] == kinds.DECISION and e["decision"] == "deny"]
    assert [e["supplier_id"] for e in denied] == [scene.supplier.owner_id]


def test_refused_direct_marketing_stops_newsletters_but_not_service_messages(scene: Scene) -> None:
    refused = scene.http.post(
        "/v1/me/consents",
        json={
            "supplier_id": scene.supplier.owner_id,
            "purpose": "direct_marketing",
            "category": "contact",
            "decision": "refuse",
        },
        headers=scene.consumer.headers,
    )
    assert refused.status_code == 201, refused.text
    _refused(scene, message(scene.alias, headers={"Precedence": "bulk"}))
    scene.relay.send(scene.alias, message(scene.alias))
    scene.mailbox.wait_for(scene.consumer.email)


def test_an_unknown_or_malformed_address_refuses_at_rcpt(scene: Scene, runtime: Runtime) -> None:
    domain = runtime.settings.relay_domain
    for address in (f"{'a' * 52}@{domain}", f"nobody@{domain}", scene.alias.replace("@", "@other.")):
        _refused(scene, message(address), to=address, at="rcpt")


def test_after_her_erasure_her_alias_opens_to_nothing_and_refuses_at_rcpt(
    scene: Scene, runtime: Runtime
) -> None:
    erased = erase(scene.http, scene.consumer.headers)
    assert erased.status_code == 200, erased.text
    with runtime.read_session_factory() as session:
        assert aliases.resolve(session, runtime, scene.alias) is None
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        scene.relay.send(scene.alias, message(scene.alias))
    scene.relay.finish_sending()
    assert scene.mailbox.received == []


def test_a_second_recipient_is_asked_to_come_again(scene: Scene) -> None:
    other = make_consumer(scene.http)
    grant(scene.http, other, scene.supplier.owner_id, "service_messages", "contact")
    [theirs] = scene.http.get("/v1/me/aliases", headers=other.headers).json()["aliases"]
    with smtplib.SMTP(scene.relay.host, scene.relay.port, timeout=30) as smtp:
        refused = smtp.sendmail(f"b@{DOMAIN}", [scene.alias, theirs["address"]], message(scene.alias))
    assert list(refused) == [theirs["address"]] and refused[theirs["address"]][0] == 452
    scene.mailbox.wait_for(scene.consumer.email)


@pytest.mark.committing
def test_no_message_text_is_at_rest_in_the_database(http: TestClient, runtime: Runtime) -> None:
    supplier = make_supplier(runtime, name=SUPPLIER)
    publish(http, supplier, ["service_messages"], ["contact"])
    bind_sending_domain(http, supplier)
    consumer = make_consumer(http)
    assert grant(http, consumer, supplier.owner_id, "service_messages", "contact").status_code == 201
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    canary = "Canary-7fd1-parcel-text"
    with smtp_server() as mailbox, relay_server(with_mailbox(runtime, mailbox)) as relay:
        relay.send(alias["address"], message(alias["address"], subject=f"Subject {canary}", text=canary))
        mailbox.inbox.wait_for(consumer.email)
    assert len(http.get("/v1/me/relayed-messages", headers=consumer.headers).json()["messages"]) == 1
    found = raw_database_bytes(runtime)
    assert canary.encode() not in found
    assert alias["address"].split("@")[0].encode() not in found
