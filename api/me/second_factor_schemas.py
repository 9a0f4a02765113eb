"""Request and response bodies of the consumer's second factor (`/v1/me/second-factor`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.accounts.schemas import SecondFactorCode
from infomediary.text import Secret

CurrentPassword = Annotated[
    Secret,
    Field(
        description="Your current password. Wrong: 403 `reauthentication-failed`, counted as a failed login."
    ),
]


class SecondFactorRead(BaseModel):
    enabled: bool
    since: datetime | None
    recovery_codes_left: int


class SecondFactorStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: CurrentPassword


class SecondFactorSecret(BaseModel):
    """Shown once: put it in an authenticator app (scan or paste `otpauth_uri`, or type `secret`), then send
    one of its codes to `POST /v1/me/second-factor/confirm`. Nothing is switched on before that."""

    secret: str = Field(description="The shared secret, base32, for typing into the app.")
    otpauth_uri: str = Field(
        description="The same as an `otpauth://totp/...` URI (RFC 6238, 30 s, 6 digits)."
    )


class SecondFactorConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        min_length=6, max_length=8, pattern=r"^[0-9 ]*$", description="The code the app shows now."
    )


class RecoveryCodes(BaseModel):
    """Shown once: each code signs in once in place of the app's code. Keep them apart from the device."""

    recovery_codes: list[str]


class SecondFactorStop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: CurrentPassword
    code: SecondFactorCode = None
