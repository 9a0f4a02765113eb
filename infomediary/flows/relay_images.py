"""The relay's image proxy: a remote image in a relayed message, fetched by the broker for the customer who
chose proxying, so its sender sees the broker's request and never her address, her mail program or the
moment she reads the message.

The fetch goes through the webhooks' vetted transport (`webhooks.transport`): the name is resolved once and
every address judged, so a supplier cannot point an image at the broker's own network (no loopback, private
or link-local address; plain http only where webhooks allow it, in tests). Nothing of hers travels with the
request: no cookie, no referrer, a fixed user agent. What comes back must be a raster image, small enough,
in time; anything else is no image at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx
import structlog

from infomediary.errors import NotFound
from infomediary.relay import links
from infomediary.runtime import Runtime
from infomediary.webhooks import urls
from infomediary.webhooks.errors import WebhookUrlRefused
from infomediary.webhooks.transport import VettedTransport

log = structlog.get_logger(__name__)

# SVG is left out on purpose: it is a document that can script and load, not a picture.
IMAGE_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon"}
)
USER_AGENT: Final = "infomediary-image-proxy"


class ImageUnavailable(NotFound):
    # One answer for every failure: which check an image failed is not the business of whoever asks.
    slug = "relay-image-unavailable"
    title = "No such image, or it could not be fetched as an image"


@dataclass(frozen=True)
class Image:
    content_type: str
    body: bytes


def fetch(runtime: Runtime, token: str, network: httpx.BaseTransport | None = None) -> Image | None:
    """The image a proxy token names, or None: a token the relay did not make, a refused address, an error,
    a redirect, not an image, or too large."""
    url = links.image_source(runtime.keys, token)
    if url is None:
        return None
    settings = runtime.settings
    limit = settings.relay_image_max_bytes
    transport = VettedTransport(urls.UrlPolicy.of(settings), network)
    try:
        with (
            httpx.Client(
                transport=transport,
                timeout=settings.relay_image_timeout_seconds,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            ) as client,
            client.stream("GET", url) as response,
        ):
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or content_type not in IMAGE_TYPES:
                return None
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                return None
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    return None
            return Image(content_type, bytes(body))
    except (WebhookUrlRefused, httpx.HTTPError) as exc:
        # Which host failed is the supplier's business, not the log's: only the kind of failure is kept.
        log.info("relay.image_refused", error=type(exc).__name__)
        return None
