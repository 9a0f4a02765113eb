"""Request and response bodies for accounts and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from infomediary.text import Secret

Password = Annotated[Secret, Field(min_length=12, description="12 to 256 characters.")]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    password: Password


class AccountCreate(Credentials):
    pass


class AccountRead(BaseModel):
    id: str
    created_at: datetime


class SessionTokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the session expires.")
