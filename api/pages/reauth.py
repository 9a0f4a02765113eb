"""A page form that asks for the customer's password again (erasure, identity release): the refusal, shown
next to the password field instead of raised."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, status
from sqlalchemy.orm import Session

from api.deps import keep_only_the_record
from infomediary.customers.errors import LoginThrottled, ReauthenticationFailed
from infomediary.text import Text

Password = Annotated[Text, Form(max_length=256)]
REFUSALS = (ReauthenticationFailed, LoginThrottled)


def refused(
    session: Session, exc: ReauthenticationFailed | LoginThrottled, password: str
) -> tuple[dict[str, str], int]:
    """The form's errors and status after a refused re-authentication. Only the refusal's record (a failed
    attempt for the login throttle) is kept: whatever else the request did is rolled back."""
    keep_only_the_record(session, exc.record)
    if isinstance(exc, LoginThrottled):
        message = "Too many wrong passwords. Wait a few minutes, then try again."
        return {"password": message}, status.HTTP_429_TOO_MANY_REQUESTS
    if not password:
        return {"password": "Enter your current password to confirm."}, status.HTTP_403_FORBIDDEN
    return {"password": "That is not your current password."}, status.HTTP_403_FORBIDDEN
