"""Issue 20, what the forward carries and the abuse controls, over real SMTP on loopback: the supplier's
HTML made safe (tracking pixel blocked or proxied, as she chose), attachments kept, a report link that
counts toward the supplier's reports like a reported offer, and a per-supplier sending limit."""

from __future__ import annotations

import dataclasses
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dkim
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from infomediary.database import utcnow
from infomediary.mail.transport import SmtpTransport
from infomediary.offers.models import OfferReportRow
from infomediary.offers.reports import SUPPLIER_REPORT_REASON
from infomediary.policylog import kinds
from infomediary.relay import links
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.conftest import ISSUER
from tests.fixtures.actors import Client, Consumer, make_consumer, make_supplier
from tests.fixtures.consents import grant, publish
from tests.fixtures.relay import (
    DOMAIN,
    SELECTOR,
    bind_sending_domain,
    private_pem,
    relay_server,
    supplier_key,
)
from tests.fixtures.relay import message as text_message
from tests.fixtures.runtimes import reconfigured
from tests.fixtures.smtp import Received, smtp_server
from tests.pages.conftest import csrf_token, sign_up, submit

SUPPLIER = "Acme Books"
TRACKER = "track.acme-tracker.example"
PDF = b"%PDF-1.4 invoice 4411\n" + bytes(range(256))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Scene:
    http: TestClient
    runtime: Runtime
    consumer: Consumer
    supplier: Client
    alias: str


@pytest.fixture
def scene(http: TestClient, runtime: Runtime) -> Scene:
    supplier = make_supplier(runtime, name=SUPPLIER)
    publish(http, supplier, ["service_messages"], ["contact"])
    bind_sending_domain(http, supplier)
    consumer = make_consumer(http)
    assert grant(http, consumer, supplier.owner_id, "service_messages", "contact").status_code == 201
    [alias] = http.get("/v1/me/aliases", headers=consumer.headers).json()["aliases"]
    return Scene(http, runtime, consumer, supplier, alias["address"])


@contextmanager
def relaying(scene: Scene, **settings: Any) -> Iterator[tuple[Any, Any]]:
    """The relay on loopback forwarding to her mailbox, with `settings` changed."""
    with smtp_server() as mailbox:
        runtime = reconfigured(
            scene.runtime,
            mail_smtp_host=mailbox.host,
            mail_smtp_port=mailbox.port,
            mail_smtp_starttls=False,
            **settings,
        )
        runtime = dataclasses.replace(runtime, mail_transport=SmtpTransport(runtime.settings))
        with relay_server(runtime) as relay:
            yield relay, mailbox.inbox


def html_message(to: str) -> bytes:
    """An HTML newsletter with a tracking pixel, a script and a PDF attached, DKIM-signed by the supplier."""
    composed = EmailMessage()
    composed["From"] = f"Acme Books <orders@{DOMAIN}>"
    composed["To"] = to
    composed["Subject"] = "Your invoice"
    composed["Date"] = format_datetime(utcnow())
    composed["Message-ID"] = make_msgid(domain=DOMAIN)
    composed["X-Mailer"] = "AcmeMailer 9 (host mta7.acme-internal.example)"
    composed.set_content("Invoice 4411 attached.\n")
    composed.add_alternative(
        f'<p>Invoice <b>4411</b> attached.<img src="https://{TRACKER}/p.gif?u=4411" width="1" height="1">'
        f'<script>fetch("https://{TRACKER}/js")</script></p>',
        subtype="html",
    )
    composed.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice-4411.pdf")
    raw = composed.as_bytes(policy=composed.policy.clone(linesep="\r\n"))
    signature: bytes = dkim.sign(
        raw,
        selector=SELECTOR.encode(),
        domain=DOMAIN.encode(),
        privkey=private_pem(supplier_key()),
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return signature + raw


def _html_of(received: Received) -> str:
    html = received.message.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert isinstance(content, str)
    return content


def _intro(received: Received) -> str:
    first = next(received.message.iter_parts())
    content = first.get_content()
    assert isinstance(content, str)
    return content


def test_html_mail_is_forwarded_sanitised_with_the_pixel_blocked_and_the_attachment_kept(
    scene: Scene,
) -> None:
    with relaying(scene) as (relay, inbox):
        relay.send(scene.alias, html_message(scene.alias))
        [received] = inbox.wait_for(scene.consumer.email)
    whole = received.message.as_string()
    assert TRACKER not in whole
    assert "<script" not in whole and "AcmeMailer" not in whole and "acme-internal" not in whole
    assert "Invoice <b>4411</b> attached." in _html_of(received)
    assert "Remote images were removed" in _intro(received)
    [attachment] = [p for p in received.message.walk() if p.get_content_disposition() == "attachment"]
    assert attachment.get_filename() == "invoice-4411.pdf"
    assert attachment.get_content() == PDF


def test_with_proxying_chosen_the_pixel_goes_through_the_broker(scene: Scene) -> None:
    chosen = scene.http.put(
        "/v1/me/relay-settings", json={"remote_images": "proxy"}, headers=scene.consumer.headers
    )
    assert chosen.status_code == 200 and chosen.json() == {"remote_images": "proxy"}
    got = scene.http.get("/v1/me/relay-settings", headers=scene.consumer.headers)
    assert got.json() == {"remote_images": "proxy"}
    with relaying(scene) as (relay, inbox):
        relay.send(scene.alias, html_message(scene.alias))
        [received] = inbox.wait_for(scene.consumer.email)
    assert TRACKER not in received.message.as_string()
    html = _html_of(received)
    [src] = [part.split('"')[0] for part in html.split('src="')[1:]]
    assert src.startswith(f"{ISSUER.rstrip('/')}/relay/images/")
    token = src.rsplit("/", 1)[1]
    assert links.image_source(scene.runtime.keys, token) == f"https://{TRACKER}/p.gif?u=4411"
    # The link names no customer: it is the same for anyone's copy of the same image.
    assert links.image_token(scene.runtime.keys, f"https://{TRACKER}/p.gif?u=4411") == token
    assert "loaded through" in _intro(received)


def test_the_report_link_shows_a_button_and_reports_once_toward_the_supplier(scene: Scene) -> None:
    app_runtime = reconfigured(scene.runtime, supplier_report_min_reporters=1)
    with relaying(scene) as (relay, inbox):
        relay.send(scene.alias, text_message(scene.alias))
        [received] = inbox.wait_for(scene.consumer.email)
    link = _intro(received).split("Report it")[1].split(": ", 1)[1].split()[0]
    assert link.startswith(f"{ISSUER.rstrip('/')}/relay/report/")
    path = link.removeprefix(ISSUER.rstrip("/"))

    def reports() -> int:
        with scene.runtime.read_session_factory() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OfferReportRow)
                    .where(OfferReportRow.supplier_id == scene.supplier.owner_id)
                )
                or 0
            )

    with TestClient(create_app(runtime=app_runtime), base_url=ISSUER) as browser:
        browser.headers["accept"] = "text/html"
        page = browser.get(path)
        assert page.status_code == 200 and SUPPLIER in page.text and "Report as unwanted" in page.text
        assert reports() == 0  # opening the link (as a mail scanner does) reports nothing
        for _ in range(2):
            done = browser.post(path, data={"csrf_token": csrf_token(page)})
            assert done.status_code == 200 and "Reported" in done.text
        assert reports() == 1  # once per message, however often the button is pressed
        forged = browser.get(path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB"))
        assert forged.status_code == 404
    with scene.runtime.read_session_factory() as session:
        strikes = session.scalars(
            select(SupplierSanction.reason).where(SupplierSanction.supplier_id == scene.supplier.owner_id)
        ).all()
    assert strikes == [SUPPLIER_REPORT_REASON]
    log = scene.http.get("/v1/me/log", params={"limit": 200}, headers=scene.consumer.headers).json()
    [entry] = [e for e in log["entries"] if e["kind"] == kinds.RELAY_MESSAGE_REPORTED]
    assert entry["supplier_id"] == scene.supplier.owner_id


def test_a_supplier_beyond_its_sending_limit_is_told_to_try_later(scene: Scene) -> None:
    with relaying(scene, relay_messages_per_supplier_per_hour=2) as (relay, inbox):
        relay.send(scene.alias, text_message(scene.alias))
        relay.send(scene.alias, text_message(scene.alias))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            relay.send(scene.alias, text_message(scene.alias))
        inbox.wait_for(scene.consumer.email, count=2)
    [(code, reply)] = refused.value.recipients.values()
    assert (code, reply) == (451, b"4.7.1 sending limit reached, try later")


def test_her_relay_page_says_which_image_choice_is_in_force_and_switches_it(scene: Scene) -> None:
    with TestClient(create_app(runtime=scene.runtime), base_url=ISSUER) as browser:
        browser.headers["accept"] = "text/html"
        sign_up(browser, "grace@example.org")
        page = browser.get("/relay")
        assert "In force: <strong>blocked</strong>" in page.text
        switched = submit(browser, "/relay", "/relay/settings", {"remote_images": "proxy"})
        assert switched.status_code == 303
        assert "In force: <strong>loaded through the broker</strong>" in browser.get("/relay").text


@contextmanager
def image_server(content_type: str, body: bytes) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_the_image_proxy_serves_images_only_and_never_from_private_addresses(runtime: Runtime) -> None:
    allowing = reconfigured(runtime, webhook_allow_loopback=True)
    with TestClient(create_app(runtime=allowing), base_url=ISSUER) as client:
        with image_server("image/png", PNG) as port:
            token = links.image_token(runtime.keys, f"http://127.0.0.1:{port}/p.png")
            served = client.get(f"/relay/images/{token}")
        assert served.status_code == 200 and served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert served.headers["cache-control"].startswith("private, max-age=")
        assert "default-src 'none'" in served.headers["content-security-policy"]
        assert "set-cookie" not in served.headers
        with image_server("text/html", b"<script>x</script>") as port:
            token = links.image_token(runtime.keys, f"http://127.0.0.1:{port}/page")
            assert client.get(f"/relay/images/{token}").status_code == 404
        with image_server("image/svg+xml", b"<svg onload='x'/>") as port:
            token = links.image_token(runtime.keys, f"http://127.0.0.1:{port}/i.svg")
            assert client.get(f"/relay/images/{token}").status_code == 404
        assert client.get("/relay/images/not-a-token").status_code == 404
    # Without the test's loopback allowance, loopback and private addresses are refused.
    with (
        TestClient(create_app(runtime=runtime), base_url=ISSUER) as client,
        image_server("image/png", PNG) as port,
    ):
        for url in (
            f"http://127.0.0.1:{port}/p.png",
            "https://10.0.0.7/p.png",
            "https://169.254.169.254/",
        ):
            token = links.image_token(runtime.keys, url)
            assert client.get(f"/relay/images/{token}").status_code == 404, url
