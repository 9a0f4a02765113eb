"""What the relay lets through: headers by allow-list, HTML sanitised, remote images blocked or proxied."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from infomediary.relay.filtering import ImagePolicy, filter_html, relayed

PROXY = "https://broker.example/relay/images/"


def _proxied(url: str) -> str:
    return PROXY + str(len(url))


REPLY = b"""Received: from laptop.ada.home (host-10-1-2-3.isp.example [10.1.2.3]) by mx.mail.example
X-Originating-IP: [10.1.2.3]
X-Mailer: Thunderbird 128.0
User-Agent: Mozilla/5.0 (X11; Linux x86_64)
DKIM-Signature: v=1; a=rsa-sha256; d=mail.example; s=s1; b=abc
Authentication-Results: mx.mail.example; spf=pass smtp.mailfrom=ada@mail.example
From: "Ada Lovelace" <ada@mail.example>
Sender: ada@mail.example
Reply-To: ada.private@mail.example
To: acme-alias@relay.invalid
Cc: charles@example.org
Subject: Re: Spring sale
Date: Tue, 08 Dec 2026 10:00:00 +0000
Message-ID: <1234@laptop.ada.home>
In-Reply-To: <offer-1@relay.invalid>
References: <earlier@laptop.ada.home> <offer-1@relay.invalid>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
X-Part-Junk: host laptop.ada.home

Yes please, caf\xc3\xa9 at noon.
--b1
Content-Type: text/html; charset=utf-8

<p>Yes <img src="https://track.example/p.gif?u=ada" width=1><img src="cid:sig">
<a href="https://shop.example/">shop</a><script>beacon()</script>
<div style="background:url(https://track.example/css)">x</div><link rel=stylesheet href="https://t.example/s.css">
<img srcset="https://track.example/2x.gif 2x"><table background="https://track.example/bg.gif"></table></p>
--b1--
"""


def _reply() -> EmailMessage:
    parsed = message_from_bytes(REPLY, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_reply_keeps_nothing_that_names_her_or_her_machine() -> None:
    filtered = relayed(_reply(), policy=ImagePolicy.BLOCK, proxied=_proxied, thread_domain="relay.invalid")
    text = filtered.message.as_string()
    leaks = (
        "10.1.2.3",
        "laptop.ada.home",
        "Lovelace",
        "ada@mail.example",
        "ada.private",
        "Thunderbird",
        "+0000",
    )
    for leak in leaks:
        assert leak not in text
    assert "charles@example.org" not in text  # her other recipients are not the supplier's business
    kept = {name.lower() for name in filtered.message}
    assert kept == {"subject", "in-reply-to", "references", "content-type", "mime-version"}
    assert filtered.message["Subject"] == "Re: Spring sale"
    # The thread still holds together on the supplier's side, through the relay's own message ids.
    assert filtered.message["References"] == "<offer-1@relay.invalid>"
    assert filtered.headers_removed == 13
    # The words survive, re-encoded.
    [plain, _html] = list(filtered.message.iter_parts())
    assert "caf\u00e9 at noon" in plain.get_content()
    assert "X-Part-Junk" not in plain


def test_remote_images_are_blocked_and_nothing_else_loads() -> None:
    filtered = relayed(_reply(), policy=ImagePolicy.BLOCK, proxied=_proxied)
    [_, html] = list(filtered.message.iter_parts())
    body = html.get_content()
    assert "track.example" not in body and "t.example" not in body
    assert "<script" not in body and "style=" not in body and "<link" not in body
    assert 'src="cid:sig"' in body  # a part of the same message loads nothing from outside
    assert 'href="https://shop.example/"' in body  # a link loads only when she follows it
    assert filtered.images_blocked == 1 and filtered.images_proxied == 0


def test_remote_images_can_go_through_the_proxy_instead() -> None:
    filtered = relayed(_reply(), policy=ImagePolicy.PROXY, proxied=_proxied)
    [_, html] = list(filtered.message.iter_parts())
    body = html.get_content()
    assert "track.example" not in body
    assert f'src="{PROXY}' in body
    assert filtered.images_blocked == 0 and filtered.images_proxied == 1


def test_a_plain_message_is_relayed_as_plain_text() -> None:
    message = EmailMessage()
    message["From"] = "Ada <ada@mail.example>"
    message["Subject"] = "Hello"
    message.set_content("Just text.\n")
    filtered = relayed(message, policy=ImagePolicy.BLOCK, proxied=_proxied)
    assert filtered.message.get_content_type() == "text/plain"
    assert filtered.message.get_content() == "Just text.\n"
    assert "ada@mail.example" not in filtered.message.as_string()


def test_attachments_travel_unchanged() -> None:
    message = EmailMessage()
    message["Subject"] = "Invoice"
    message.set_content("See attached.")
    message.add_attachment(b"%PDF-1.7 bytes", maintype="application", subtype="pdf", filename="invoice.pdf")
    filtered = relayed(message, policy=ImagePolicy.BLOCK, proxied=_proxied)
    [_, attachment] = list(filtered.message.iter_parts())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == b"%PDF-1.7 bytes"


REMOTE = st.sampled_from(["http://", "https://", "//", "HTTPS://", " https://"])
# Senders' hosts start with "t" (trackers), so none is the proxy's own host.
HOSTS = st.from_regex(r"t[a-z]{0,11}\.example", fullmatch=True)
TAGS = st.sampled_from(["img", "video", "table", "td", "body", "input", "audio", "source", "image"])
ATTRIBUTES = st.sampled_from(["src", "srcset", "background", "poster", "style", "data-src", "lowsrc"])


@given(
    elements=st.lists(st.tuples(TAGS, ATTRIBUTES, REMOTE, HOSTS), min_size=1, max_size=8),
    policy_chosen=st.sampled_from(list(ImagePolicy)),
)
def test_no_remote_address_survives_in_anything_that_loads(
    elements: list[tuple[str, str, str, str]], policy_chosen: ImagePolicy
) -> None:
    html = "".join(
        f'<{tag} {attribute}="{scheme}{host}/p.gif">' + (f"</{tag}>" if tag != "img" else "")
        for tag, attribute, scheme, host in elements
    )
    cleaned, _blocked, proxied = filter_html(html, policy_chosen, _proxied)
    hosts = {host for *_, host in elements}
    assert not any(host in cleaned for host in hosts), cleaned
    if policy_chosen is ImagePolicy.BLOCK:
        assert proxied == 0 and not re.search(r"src=\"https://broker", cleaned)
