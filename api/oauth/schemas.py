"""The form of the token and revocation endpoints (RFC 6749 section 4.4, RFC 7009), bounded like any input:
a NUL or an oversized value is an `invalid_request`, the answer RFC 6749 gives a malformed request, before
authlib or a query sees it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from infomediary.text import Key, Line, Opaque

# An access token is a signed JWT: a few hundred characters, far below this.
TOKEN_LENGTH = 4096


class OAuthForm(BaseModel):
    # Parameters this server does not know are ignored, as RFC 6749 section 3.1 asks; the values checked here
    # are the ones authlib reads. A grant type of the right shape but not offered is authlib's to refuse
    # (`unsupported_grant_type`); the document names the one offered.
    model_config = ConfigDict(extra="ignore")

    grant_type: Annotated[Key, WithJsonSchema({"type": "string", "enum": ["client_credentials"]})] = ""
    scope: Line = Field(default="", description="Space-separated scopes.")
    client_id: Opaque = ""
    client_secret: Opaque = ""
    token: Annotated[Opaque, Field(max_length=TOKEN_LENGTH)] = ""
    token_type_hint: Key = ""
