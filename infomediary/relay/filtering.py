"""What the relay lets through of a message: which headers survive, and what becomes of remote content.

Both directions go through here. A supplier's mail to a customer loses everything that could watch her
reading it (remote images, tracking pixels, remote style sheets, scripts); her reply to a supplier loses
everything that could name her or her machine (`Received` lines, `X-Originating-IP`, her mail provider's
signatures, her display name unless she allowed it).

Headers are kept by an allow-list, not stripped by a deny-list: mail software invents new headers that name
a host or a person (`X-Originating-IP`, `X-Google-Smtp-Source`, `X-MS-Exchange-*`, `User-Agent`...), and a
deny-list is always one behind. The relay sets the addressing headers itself.

HTML is rewritten by nh3 (the Python binding of ammonia, a maintained HTML sanitiser built on html5ever),
never by hand: its allow-list of tags and attributes already drops `<script>`, `<style>`, `<link>`, event
handlers, `style` attributes (CSS `url(...)` beacons) and `srcset`; here each image source is dropped or
sent through the broker's image proxy, as the customer chose.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart

import nh3

# Headers a relayed message keeps from the one it came in as. Addressing (From, To, Cc, Reply-To, Sender),
# identification (Message-ID) and trace headers are the relay's to write; anything else is dropped. The
# headers that say how to read the body are rewritten with the body, in every part.
# `Date` is not kept either: its offset says which time zone the writer is in; the relay dates the message.
KEPT_HEADERS = frozenset({"subject", "content-language", "in-reply-to", "references"})
THREAD_HEADERS = frozenset({"in-reply-to", "references"})
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
CONTENT_HEADERS = frozenset(
    {"mime-version", "content-type", "content-transfer-encoding", "content-disposition", "content-id"}
)
# URL schemes a link or image may keep. `cid:` points at a part of the same message, which loads nothing.
URL_SCHEMES = frozenset({"http", "https", "mailto", "cid"})
REMOTE_SCHEMES = ("http:", "https:", "//")


class ImagePolicy(enum.StrEnum):
    """What the customer chose for remote images in the mail relayed to her."""

    # Not loaded at all: the sender cannot tell whether, when or where she read the message.
    BLOCK = "block"
    # Loaded by the broker, not by her mail program: the sender sees the broker fetch it once, never her
    # address, her mail program or the moment she reads it.
    PROXY = "proxy"


@dataclass(frozen=True)
class Filtered:
    """A message ready to relay, and what was taken out of it (the centre tells her)."""

    message: EmailMessage
    headers_removed: int
    images_blocked: int
    images_proxied: int


def filter_html(html: str, policy: ImagePolicy, proxied: Callable[[str], str | None]) -> tuple[str, int, int]:
    """Sanitise one HTML body; returns it with the counts of remote images blocked and proxied."""
    counts = {"blocked": 0, "proxied": 0}

    def source(tag: str, attribute: str, value: str) -> str | None:
        # Called for every attribute nh3's allow-list keeps; links (`a href`) load nothing and stay.
        if attribute not in {"src", "background", "poster"} or not _is_remote(value):
            return value
        if tag == "img" and attribute == "src" and policy is ImagePolicy.PROXY:
            # None: an image the proxy will not fetch (a protocol-relative or overlong URL) is blocked.
            through = proxied(value)
            if through is not None:
                counts["proxied"] += 1
                return through
        counts["blocked"] += 1
        return None

    cleaned = nh3.clean(
        html, url_schemes=set(URL_SCHEMES), attribute_filter=source, link_rel="noopener noreferrer nofollow"
    )
    return cleaned, counts["blocked"], counts["proxied"]


def _is_remote(value: str) -> bool:
    return value.strip().lower().startswith(REMOTE_SCHEMES)


def relayed(
    original: EmailMessage,
    *,
    policy: ImagePolicy,
    proxied: Callable[[str], str | None],
    thread_domain: str | None = None,
) -> Filtered:
    """A copy of `original` with only the kept headers and every body re-encoded, HTML sanitised. The
    caller adds the addressing headers (From, To, Reply-To, Message-ID, Date) and signs it.

    With `thread_domain`, `In-Reply-To` and `References` keep only message ids of that domain (the relay's
    own): a customer's mail program lists the ids it gave her earlier messages, and an id is often
    `<random@her-machine's-name>`."""
    copy = EmailMessage()
    removed = 0
    for name, value in original.raw_items():
        if name.lower() in THREAD_HEADERS and thread_domain is not None:
            ids = [i for i in MESSAGE_ID.findall(value) if i.lower().endswith(f"@{thread_domain.lower()}>")]
            if ids:
                copy[name] = " ".join(ids)
            else:
                removed += 1
        elif name.lower() in KEPT_HEADERS:
            copy[name] = value
        elif name.lower() not in CONTENT_HEADERS:
            removed += 1
    blocked, proxied_count = _fill(original, copy, policy, proxied)
    if "MIME-Version" not in copy:
        copy["MIME-Version"] = "1.0"
    return Filtered(copy, removed, blocked, proxied_count)


def _fill(
    source: MIMEPart, target: MIMEPart, policy: ImagePolicy, proxied: Callable[[str], str | None]
) -> tuple[int, int]:
    """Write `source`'s body into `target` afresh, part by part; returns images blocked and proxied.

    Bodies are decoded and encoded again by the email package, so a part cannot carry lines through a
    mislabelled transfer encoding, and a part's own headers are only the ones that say how to read it."""
    if source.is_multipart():
        target["Content-Type"] = f"multipart/{source.get_content_subtype()}"
        blocked = proxied_count = 0
        for part in source.iter_parts():
            child = MIMEPart(policy=target.policy)
            part_blocked, part_proxied = _fill(part, child, policy, proxied)
            target.attach(child)
            blocked += part_blocked
            proxied_count += part_proxied
        return blocked, proxied_count
    if source.get_content_type() == "text/html":
        html, blocked, proxied_count = filter_html(_text(source), policy, proxied)
        target.set_content(html, subtype="html", cte="quoted-printable")
        return blocked, proxied_count
    if source.get_content_maintype() == "text":
        target.set_content(_text(source), subtype=source.get_content_subtype(), cte="quoted-printable")
        return 0, 0
    payload = source.get_payload(decode=True)
    target.set_content(
        payload if isinstance(payload, bytes) else b"",
        maintype=source.get_content_maintype(),
        subtype=source.get_content_subtype(),
        disposition=source.get_content_disposition(),
        filename=source.get_filename(),
        cid=source["Content-ID"],
    )
    return 0, 0


def _text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        # An unknown or wrong charset: read what can be read rather than refuse the message.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""
