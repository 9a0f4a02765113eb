"""The address she replies to: `r-` and base32 of AES-SIV (RFC 5297) of the id of the message she received.

Like a relay address (`aliases.service`) it is an encryption, not a lookup key: no table maps a reply address
to her. It opens, under a key of its own (`relay_reply`), to the relayed message's id, and that row says whose
message it was, through which of her addresses, and (sealed under her erasure key) which supplier address
wrote it, where the reply goes. SIV authenticates what it encrypts: an address altered or made up opens to
nothing. Once she is erased her messages go with her account, so a kept reply address opens to no row.

The `r-` prefix keeps the two kinds of address apart at a glance (`server` dispatches on it): base32 has no
`-`, so no relay address can start with it.
"""

from __future__ import annotations

from typing import Final

from infomediary.mail.sealed_local_part import SealedLocalPart
from infomediary.runtime import Runtime
from infomediary.settings import Settings

PREFIX: Final = "r-"
_ID_PREFIX = "msg_"
_ID_BYTES = 16
# 16 bytes sealed: 52 characters, 54 with the prefix (a local part <= 64).
_SEALED = SealedLocalPart(b"infomediary.relay-reply.v1", prefix=PREFIX)


def address(runtime: Runtime, message_id: str) -> str:
    """The reply address of one relayed message (`msg_` and 32 hex digits, as `ids.new_id` makes them)."""
    if not message_id.startswith(_ID_PREFIX):
        raise ValueError("not a relayed message id")
    raw = bytes.fromhex(message_id.removeprefix(_ID_PREFIX))
    if len(raw) != _ID_BYTES:
        raise ValueError("not a relayed message id")
    return f"{_SEALED.seal(runtime.keys.secret('relay_reply'), raw)}@{runtime.settings.relay_domain}"


def is_reply_address(settings: Settings, address: str) -> bool:
    """Whether `address` has the form of a reply address under the relay domain (not whether it opens)."""
    local, at, domain = address.strip().rpartition("@")
    relay_domain = domain.casefold() == settings.relay_domain.casefold()
    return bool(at) and relay_domain and local.lower().startswith(PREFIX)


def message_id(runtime: Runtime, address: str) -> str | None:
    """The relayed message a reply address answers, or None: not one the relay made, or altered."""
    local, at, domain = address.strip().rpartition("@")
    if not at or domain.casefold() != runtime.settings.relay_domain.casefold():
        return None
    opened = _SEALED.open(runtime.keys.secret("relay_reply"), local, size=_ID_BYTES)
    return None if opened is None else _ID_PREFIX + opened.hex()
