"""The epsilon budget's standing on every answer of a route that may spend it, and its OpenAPI declaration.

A supplier learns what is left and when it resets from each answer (`Epsilon-Remaining`,
`Epsilon-Resets-At`; `infomediary.audiences.standing`), on the 429 that refuses a spend too (with
Retry-After), instead of finding the limit by reaching it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from sqlalchemy.orm import Session

from api.problems import problem_responses
from infomediary.audiences import budget
from infomediary.audiences.standing import REMAINING_HEADER, RESETS_AT_HEADER, Standing
from infomediary.database import utcnow
from infomediary.runtime import Runtime

HEADERS: dict[str, dict[str, Any]] = {
    REMAINING_HEADER: {
        "description": "Epsilon left in your budget for this period, after this answer (three decimals).",
        "schema": {"type": "string", "pattern": r"^\d+\.\d{3}$", "examples": ["4.500"]},
    },
    RESETS_AT_HEADER: {
        "description": "When your budget period ends and the budget is whole again (RFC 3339, UTC).",
        "schema": {"type": "string", "format": "date-time"},
    },
}
RETRY_AFTER: dict[str, Any] = {
    "description": "Seconds until the budget resets.",
    "schema": {"type": "integer", "minimum": 1},
}


def budget_responses(success: int, *problems: int) -> dict[int | str, dict[str, Any]]:
    """`responses` for a route that may spend the budget: `problems` as problem+json, and the headers on the
    success answer and on the 429 (with Retry-After) where the route refuses a spend (offer reads do not:
    their figures stay as last released)."""
    responses = problem_responses(*problems)
    responses[success] = {"headers": HEADERS}
    if 429 in responses:
        responses[429] = {**responses[429], "headers": {**HEADERS, "Retry-After": RETRY_AFTER}}
    return responses


def announce(response: Response, standing: Standing) -> None:
    response.headers.update(standing.headers())


def announce_read(response: Response, session: Session, runtime: Runtime, supplier_id: str) -> None:
    """Announce the standing as this transaction sees it, for answers that do not carry it themselves."""
    announce(response, budget.standing(session, supplier_id, utcnow(), runtime.settings))
