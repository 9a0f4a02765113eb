"""Security headers for every HTML response: a strict Content-Security-Policy (no inline script or style, no
third-party origin, no framing, forms post only to this site) on top of the app-wide headers. Added to each
response by `api.middleware.ObservabilityMiddleware`."""

from __future__ import annotations

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
# FastAPI's /docs and /redoc load their own scripts, and are for operators, not customers.
PAGE_HEADERS_EXEMPT = ("/docs", "/redoc")
