"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`.

stdlib `hmac` over SHA-256 (not a hand-rolled primitive). The `standardwebhooks` package is not among the
packages available here; receivers can verify these headers with it, and the tests verify them with an
independent implementation written from the specification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def headers(secret: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }
