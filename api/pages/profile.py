"""The profile page: every field by category, sensitive ones marked, one form to correct them (messages next
to each field that was refused) and the history of changes. Same service as `PATCH /v1/me/profile`."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response, status
from starlette.datastructures import FormData

from api.deps import AsyncWriteSessionDep, ReadSessionDep, RuntimeDep, SessionDep
from api.pages.auth import PageConsumer
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.vocabulary import CATEGORIES, Category
from infomediary.customers.errors import EmailAlreadyRegistered
from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import service as profiles
from infomediary.profiles.errors import InvalidProfile
from infomediary.profiles.fields import FIELDS, LifeEvent
from infomediary.runtime import Runtime

router = page_router()
HISTORY_LIMIT = 200
TAG_FIELDS = frozenset({"interests", "preferred_brands", "health_conditions", "dietary_requirements"})
NUMBER_FIELDS = frozenset({"household_size", "monthly_savings"})
EMAIL_REQUIRED = "Your email address is your login: it cannot be empty."
LIFE_EVENT_KINDS: tuple[str, ...] = typing.get_args(LifeEvent.model_fields["kind"].annotation)


@dataclass(frozen=True)
class Widget:
    """How one profile field is edited in a plain HTML form."""

    key: str
    label: str
    sensitive: bool
    kind: str  # text, email, date, number, select, checkboxes, tags, lines, point
    shown: str
    options: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()
    hint: str | None = None


def _bare(key: str) -> Any:
    """The field's type without its bounds (`Annotated[list[Channel], Field(max_length=...)]` is a list)."""
    spec_type = FIELDS[key].type
    return typing.get_args(spec_type)[0] if typing.get_origin(spec_type) is typing.Annotated else spec_type


def _choices(key: str) -> tuple[str, ...]:
    spec_type = _bare(key)
    if typing.get_origin(spec_type) is typing.Literal:
        return tuple(typing.get_args(spec_type))
    if typing.get_origin(spec_type) is list:
        [inner] = typing.get_args(spec_type)
        if typing.get_origin(inner) is typing.Literal:
            return tuple(typing.get_args(inner))
    return ()


def _kind(key: str) -> str:
    if key == "email":
        return "email"
    if key == "birth_date":
        return "date"
    if key in NUMBER_FIELDS:
        return "number"
    if key in TAG_FIELDS:
        return "tags"
    if key == "life_events":
        return "lines"
    if key == "home_location":
        return "point"
    choices = _choices(key)
    if choices:
        return "checkboxes" if typing.get_origin(_bare(key)) is list else "select"
    return "text"


HINTS = {
    "tags": "Separate with commas.",
    "lines": "One per line: what happened, then the date, e.g. moved_home 2024-05-01. Kinds: "
    + ", ".join(LIFE_EVENT_KINDS)
    + ".",
    "point": "Latitude, longitude, e.g. 52.37, 4.89.",
}


def _shown(kind: str, value: Any) -> str:
    """A stored JSON value as the text its form input holds."""
    if value is None:
        return ""
    if kind == "tags":
        return ", ".join(value)
    if kind == "lines":
        return "\n".join(f"{e['kind']} {e['date']}" for e in value)
    if kind == "point":
        return f"{value['latitude']}, {value['longitude']}"
    if kind == "checkboxes":
        return ""
    return str(value)


def _parsed(kind: str, form: FormData, key: str) -> Any:
    """The submitted text as the JSON value the field definitions validate (None clears the field)."""
    if kind == "checkboxes":
        chosen = [str(v) for v in form.getlist(key)]
        return chosen or None
    raw = form.get(key)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if kind == "tags":
        return [t.strip() for t in text.split(",") if t.strip()]
    if kind == "lines":
        events = []
        for line in text.splitlines():
            parts = line.split()
            if parts:
                events.append({"kind": parts[0], "date": parts[1] if len(parts) > 1 else ""})
        return events
    if kind == "point":
        lat, _, lng = text.partition(",")
        return {"latitude": lat.strip() or None, "longitude": lng.strip() or None}
    return text


def _sections(views: list[profiles.FieldView], submitted: FormData | None) -> list[dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for view in views:
        kind = _kind(view.key)
        if submitted is not None:
            raw = submitted.get(view.key)
            shown = raw if isinstance(raw, str) else ""
            chosen = tuple(str(v) for v in submitted.getlist(view.key))
        else:
            shown = _shown(kind, view.value)
            chosen = tuple(view.value or ()) if kind == "checkboxes" else ()
        category = CATEGORIES[Category(view.category)]
        section = sections.setdefault(
            view.category,
            {"label": category.label, "description": category.description, "widgets": []},
        )
        section["widgets"].append(
            Widget(
                key=view.key,
                label=view.label,
                sensitive=view.sensitivity == "sensitive",
                kind=kind,
                shown=shown,
                options=_choices(view.key),
                chosen=chosen,
                hint=HINTS.get(kind),
            )
        )
    return list(sections.values())


def _page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    consumer: PageConsumer,
    *,
    submitted: FormData | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    views = profiles.read_profile(session, runtime, consumer.customer_id)
    history = profiles.list_history(session, runtime, consumer.customer_id, limit=HISTORY_LIMIT)
    return render(
        request,
        "profile.html",
        {
            "consumer": consumer,
            "sections": _sections(views, submitted),
            "history": list(reversed(history)),
            "labels": {key: spec.label for key, spec in FIELDS.items()},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/profile")
def read_profile(
    request: Request, consumer: PageConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    return _page(request, session, runtime, consumer)


@router.post("/profile")
async def update_profile(
    request: Request, consumer: PageConsumer, session: AsyncWriteSessionDep, runtime: RuntimeDep
) -> Response:
    form = await request.form()
    return await session.run(_save, request, runtime, consumer, form)


def _save(
    session: WriteSession, request: Request, runtime: Runtime, consumer: PageConsumer, form: FormData
) -> Response:
    changes = {key: _parsed(_kind(key), form, key) for key in FIELDS}
    errors: dict[str, str] = {}
    if changes["email"] is None:
        # Checked here as well as by the service, so that it is reported together with the other fields.
        errors["email"] = EMAIL_REQUIRED
        del changes["email"]
    try:
        profile_changed.update_profile(session, runtime, consumer.customer_id, changes, actor="customer")
    except InvalidProfile as exc:
        for error in exc.extensions.get("errors", []):
            parts = error["pointer"].split("/")
            key = parts[2] if len(parts) > 2 else "_form"
            errors.setdefault(key, _plain(key, error["reason"]))
    except EmailAlreadyRegistered:
        errors["email"] = "Another account uses this email address."
    if errors:
        session.rollback()  # all or nothing: a valid field is not saved while another one is refused
        return _page(
            request,
            session,
            runtime,
            consumer,
            submitted=form,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return redirect(request, "/profile", notice="profile-saved")


def _plain(key: str, reason: str) -> str:
    if key == "email" and reason == "cannot be null":
        return EMAIL_REQUIRED
    return reason[:1].upper() + reason[1:].removeprefix("Value error, ")
