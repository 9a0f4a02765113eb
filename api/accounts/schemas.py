"""Request and response bodies for accounts and sessions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from infomediary.text import Secret

Password = Annotated[Secret, Field(min_length=12, description="12 to 256 characters.")]
# A code from an authenticator app (6 digits) or a recovery code (letters and digits, a dash or spaces).
CODE = r"^[A-Za-z0-9 -]*$"
# A mailed link's token: 256 bits, base64url (43 characters); a little room, nothing more.
Token = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
SecondFactorCode = Annotated[
    str | None,
    Field(
        min_length=6,
        max_length=32,
        pattern=CODE,
        description=(
            "With two-step sign-in on: the 6-digit code from your authenticator app, or one of your recovery "
            "codes. Missing or wrong: 403 `reauthentication-failed`, counted like a wrong password."
        ),
    ),
]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    password: Password


class AccountCreate(Credentials):
    pass


class AddressOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)


class Accepted(BaseModel):
    """The one answer to registering, asking for a link again and asking for a password reset, whether or
    not the address has an account: the same status, the same body."""

    detail: str


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token = Field(description="The `token` of the link mailed to the address.")


class EmailChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token = Field(description="The `token` of the link mailed to the new address.")
    password: Secret = Field(
        description=(
            "Your current password: the link proves the new mailbox, not that you asked. Missing or wrong: "
            "403 `reauthentication-failed`, nothing changes and the link still works; counted like a failed "
            "login."
        )
    )
    code: SecondFactorCode = None


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token = Field(description="The `token` of the password-reset link mailed to the address.")
    new_password: Password


class SessionTokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the session expires.")


class SecondFactorChallenge(BaseModel):
    """The password was right; two-step sign-in is on. Send `challenge` with a code to
    `POST /v1/session/second-factor` within `expires_in` seconds."""

    challenge: str
    expires_in: int
    second_factor: Literal["totp"] = "totp"


class SecondFactorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge: Token
    code: str = Field(
        min_length=6,
        max_length=32,
        pattern=CODE,
        description="The 6-digit code from the authenticator app, or an unused recovery code.",
    )
