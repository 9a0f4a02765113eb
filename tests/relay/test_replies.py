"""Issue 20, replies through the relay over real SMTP on loopback: a supplier's signed message reaches her
mailbox with a reply address; her reply to it goes back through the relay, and the supplier's server
receives it from her relay address with nothing that names her, her machine or her other recipients.

One loopback server stands for every mailbox the relay's outbound transport reaches (it points at one
host): her forwards and the supplier-bound replies arrive there, told apart by recipient."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from fastapi.testclient import TestClient

from infomediary.database import utcnow
from infomediary.policylog import kinds
from infomediary.relay import dkim_signing
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, erase, make_consumer, make_supplier
from tests.fixtures.consents import grant, publish
from tests.fixtures.relay import DOMAIN, Relay, bind_sending_domain, message, relay_server, with_mailbox
from tests.fixtures.smtp import Inbox, smtp_server

SUPPLIER = "Acme Books"
SUPPLIER_ADDRESS = f"orders@{DOMAIN}"
HER_NAME = "Ada Lovelace"
HER_IP = "192.0.2.55"
HER_HOST = "adas-laptop.home.example"


@dataclass
class Scene:
    http: TestClient
    runtime: Runtime
    consumer: Consumer
    supplier: Client
    alias: str
    relay: Relay
    mailbox: Inbox
    reply_to: str
    forwarded_id: str


@pytest.fixture
def scene(http: TestClient, runtime: Runtime) -> Iterator[Scene]:
    """Acme Books writes to her relay address; the forward reaches her mailbox with a reply address."""
    supplier = make_supplier(runtime, name=SUPPLIER)
    publish(http, supplier, ["service_messages"], ["contact"])
    bind_sending_domain(http, supplier)
    consumer = make_consumer(http)
    assert grant(http, consumer, supplier.owner_id, "service_messages", "contact").status_code == 201
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    with smtp_server() as server, relay_server(with_mailbox(runtime, server)) as relay:
        raw = message(alias["address"], subject="Your order has shipped", sender=f"Acme <{SUPPLIER_ADDRESS}>")
        assert relay.send(alias["address"], raw) == {}
        [forward] = server.inbox.wait_for(consumer.email)
        reply_to = forward.message["Reply-To"].addresses[0].addr_spec
        yield Scene(
            http,
            runtime,
            consumer,
            supplier,
            alias["address"],
            relay,
            server.inbox,
            reply_to,
            str(forward.message["Message-ID"]),
        )


def her_reply(scene: Scene, *, sender: str | None = None, to: str | None = None) -> bytes:
    """Her reply as her mail program writes it: her name, her machine's trace, a Cc, HTML with a pixel."""
    reply = EmailMessage()
    when = format_datetime(utcnow())
    reply["Received"] = f"from {HER_HOST} ([{HER_IP}]) by smtp.her-provider.example; {when}"
    reply["X-Originating-IP"] = f"[{HER_IP}]"
    reply["User-Agent"] = f"Thunderbird/128.0 on {HER_HOST}"
    reply["From"] = f"{HER_NAME} <{sender or scene.consumer.email.upper()}>"
    reply["To"] = to or scene.reply_to
    reply["Cc"] = "Her Friend <friend@elsewhere.example>"
    reply["Subject"] = "Re: Your order has shipped"
    reply["Date"] = format_datetime(utcnow().astimezone())
    reply["Message-ID"] = make_msgid(domain=HER_HOST)
    her_earlier = make_msgid(domain=HER_HOST)
    reply["In-Reply-To"] = scene.forwarded_id
    reply["References"] = f"{her_earlier} {scene.forwarded_id}"
    reply.set_content("Thank you, please leave it with the neighbour.\n")
    reply.add_alternative(
        "<p>Thank you, please leave it with the neighbour.</p>"
        '<img src="https://tracker.her-provider.example/open.gif?u=ada" width="1" height="1">'
        '<img src="http://tracker.her-provider.example/x.gif">',
        subtype="html",
    )
    return reply.as_bytes(policy=reply.policy.clone(linesep="\r\n"))


def send_reply(scene: Scene, raw: bytes, *, to: str | None = None, mail_from: str | None = None) -> None:
    with smtplib.SMTP(scene.relay.host, scene.relay.port, timeout=30) as smtp:
        smtp.sendmail(mail_from or scene.consumer.email, [to or scene.reply_to], raw)


def refused(scene: Scene, raw: bytes, *, to: str | None = None, mail_from: str | None = None) -> None:
    """A 550 "not accepted", at RCPT or DATA, and nothing reaches the supplier or her log."""
    with pytest.raises((smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)) as caught:
        send_reply(scene, raw, to=to, mail_from=mail_from)
    error = caught.value
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        [(code, reply)] = error.recipients.values()
    else:
        assert isinstance(error, smtplib.SMTPDataError)
        code, reply = error.smtp_code, error.smtp_error
    assert code == 550 and reply.endswith(b"not accepted"), (code, reply)
    scene.relay.finish_sending()
    assert not [r for r in scene.mailbox.received if SUPPLIER_ADDRESS in r.rcpt_tos]
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    assert not [e for e in log["entries"] if e["kind"] == kinds.RELAY_REPLY_SENT]


def test_the_forward_carries_a_reply_address_on_the_relay_domain(scene: Scene) -> None:
    local, _, domain = scene.reply_to.partition("@")
    assert domain == scene.runtime.settings.relay_domain and local.startswith("r-")
    assert scene.reply_to != scene.alias


def test_her_reply_reaches_the_supplier_from_her_alias_with_nothing_that_names_her(scene: Scene) -> None:
    send_reply(scene, her_reply(scene))
    [received] = scene.mailbox.wait_for(SUPPLIER_ADDRESS)
    # The envelope too: from her relay address, to the supplier alone (her Cc is not sent anywhere).
    assert received.mail_from == scene.alias and received.rcpt_tos == [SUPPLIER_ADDRESS]
    assert not [r for r in scene.mailbox.received if "friend@elsewhere.example" in r.rcpt_tos]
    got = received.message
    [sender] = got["From"].addresses
    assert isinstance(sender, Address)
    assert sender.addr_spec == scene.alias and sender.display_name == ""
    assert [a.addr_spec for a in got["To"].addresses] == [SUPPLIER_ADDRESS]
    assert got["Cc"] is None and got["Received"] is None and got["X-Originating-IP"] is None
    assert got["User-Agent"] is None
    assert got["Subject"] == "Re: Your order has shipped"
    assert str(got["Message-ID"]).endswith(f"@{scene.runtime.settings.relay_domain}>")
    # Threading survives through the relay's own ids; her machine's ids do not.
    # (Compared without the space a header folded before a long id starts with.)
    assert str(got["In-Reply-To"]).strip() == scene.forwarded_id.strip()
    assert str(got["References"]).strip() == scene.forwarded_id.strip()
    text = got.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "leave it with the neighbour" in text
    html = got.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "leave it with the neighbour" in html
    whole = got.as_string().casefold()
    for leak in (scene.consumer.email, HER_NAME, HER_IP, HER_HOST, "tracker.", "thunderbird", "friend@"):
        assert leak.casefold() not in whole, leak
    assert dkim_signing.verify(
        got.as_bytes(),
        domain=scene.runtime.settings.relay_domain,
        selector=scene.runtime.settings.relay_dkim_selector,
        record=dkim_signing.dns_record(scene.runtime.keys),
    )

    # In her log (no address in it), and kept with her messages as sent.
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    [entry] = [e for e in log["entries"] if e["kind"] == kinds.RELAY_REPLY_SENT]
    assert entry["supplier_id"] == scene.supplier.owner_id and SUPPLIER in entry["text"]
    assert scene.alias.casefold() not in str(entry).casefold()
    assert scene.consumer.email.casefold() not in str(entry).casefold()
    listed = scene.http.get("/v1/me/relayed-messages", headers=scene.consumer.headers).json()["messages"]
    assert sorted(m["direction"] for m in listed) == ["received", "sent"]
    [sent] = [m for m in listed if m["direction"] == "sent"]
    assert sent["subject"] == "Re: Your order has shipped"


def test_a_reply_from_another_address_is_not_accepted(scene: Scene) -> None:
    other = "mallory@elsewhere.example"
    refused(scene, her_reply(scene, sender=other), mail_from=other)
    # Her From with someone else's envelope sender, and the other way round.
    refused(scene, her_reply(scene), mail_from=other)
    refused(scene, her_reply(scene, sender=other))


def test_a_forged_or_altered_reply_address_is_not_accepted(scene: Scene) -> None:
    local, _, domain = scene.reply_to.partition("@")
    # One character changed, in the middle or the last (whose spare bits decoding would ignore).
    middle = local[:20] + ("a" if local[20] != "a" else "b") + local[21:]
    last = local[:-1] + ("a" if local[-1] != "a" else "b")
    for forged in (middle, last, f"r-{'a' * 52}", "r-nobody"):
        forged = f"{forged}@{domain}"
        refused(scene, her_reply(scene, to=forged), to=forged)


def test_a_reply_through_a_switched_off_alias_is_not_accepted(scene: Scene) -> None:
    [alias] = scene.http.get("/v1/me/aliases", headers=scene.consumer.headers).json()["aliases"]
    off = scene.http.post(
        f"/v1/me/aliases/{alias['id']}/switch", json={"on": False}, headers=scene.consumer.headers
    )
    assert off.status_code == 200
    refused(scene, her_reply(scene))


def test_after_her_erasure_the_reply_address_opens_to_nothing(scene: Scene) -> None:
    assert erase(scene.http, scene.consumer.headers).status_code == 200
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_reply(scene, her_reply(scene))
    scene.relay.finish_sending()
    assert not [r for r in scene.mailbox.received if SUPPLIER_ADDRESS in r.rcpt_tos]
