"""Security headers for every HTML response: a strict Content-Security-Policy (no inline script or style, no
third-party origin, no framing, forms post only to this site) on top of the app-wide headers."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    # Not the API's no-referrer: under it browsers send `Origin: null` with a form, and the CSRF check reads
    # Origin. same-origin still tells no other site where a customer came from.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class PageHeadersMiddleware:
    """Adds `PAGE_HEADERS` to every text/html response except the OpenAPI viewers (FastAPI's /docs and /redoc
    load their own scripts, and are for operators, not customers)."""

    def __init__(self, app: ASGIApp, exempt: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    present = {name.lower() for name, _ in headers}
                    headers.extend(h for h in PAGE_HEADERS if h[0] not in present)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)
