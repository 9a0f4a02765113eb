"""A page form that asks for the customer's password again (erasure, identity release), and the code of her
authenticator app when two-step sign-in is on: the refusal, shown next to the fields instead of raised."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, status
from sqlalchemy.orm import Session

from api.deps import keep_only_the_record
from infomediary.customers import second_factor
from infomediary.customers.errors import (
    LoginThrottled,
    ReauthenticationFailed,
    SecondFactorReauthenticationFailed,
)
from infomediary.text import Line, Secret

Password = Annotated[Secret, Form()]
Code = Annotated[Line, Form(max_length=32)]
REFUSALS = (ReauthenticationFailed, LoginThrottled)


def needs_code(session: Session, customer_id: str) -> bool:
    """Whether the form must ask for an authenticator code too (`reauth_fields` in `_forms.html`)."""
    return second_factor.enabled(session, customer_id)


def refused(
    session: Session, exc: ReauthenticationFailed | LoginThrottled, password: str
) -> tuple[dict[str, str], int]:
    """The form's errors and status after a refused re-authentication. Only the refusal's record (a failed
    attempt for the login throttle) is kept: whatever else the request did is rolled back."""
    keep_only_the_record(session, exc.record)
    if isinstance(exc, LoginThrottled):
        message = "Too many wrong passwords. Wait a few minutes, then try again."
        return {"password": message}, status.HTTP_429_TOO_MANY_REQUESTS
    if isinstance(exc, SecondFactorReauthenticationFailed):
        # One message for either being wrong: which one was is not for whoever holds the session to learn.
        message = "Enter your current password and a code from your app (or a recovery code)."
        return {"password": message}, status.HTTP_403_FORBIDDEN
    if not password:
        return {"password": "Enter your current password to confirm."}, status.HTTP_403_FORBIDDEN
    return {"password": "That is not your current password."}, status.HTTP_403_FORBIDDEN
