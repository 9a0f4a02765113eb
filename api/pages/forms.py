"""Form input: validated by a pydantic model, its errors turned into one message per field for the page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc", ())
        name = str(loc[0]) if loc else "_form"
        message = str(error.get("msg", "Not valid"))
        # pydantic prefixes custom messages with "Value error, "; a person does not need that.
        errors.setdefault(name, message.removeprefix("Value error, "))
    return errors


def parse_form(model: type[M], data: Mapping[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The validated model, or None and the message for each field that failed."""
    try:
        return model.model_validate(dict(data)), {}
    except ValidationError as exc:
        return None, field_errors(exc)
