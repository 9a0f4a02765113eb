"""The profile pages: an overview of the categories (ordinary ones first, sensitive ones apart, each saying
why it is optional) with the history of changes, and one page per category with its own form (messages in
plain words next to each field that was refused). Same service as `PATCH /v1/me/profile`.

One page per category (issue 19): a single 4,900-pixel form with one Save button was where people gave
up, and putting health and beliefs in the same form as a name nudged them to fill everything in.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, Response, status
from starlette.datastructures import FormData

from api.deps import AsyncWriteSessionDep, ReadSessionDep, RuntimeDep, SessionDep
from api.pages.auth import PageConsumer
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.vocabulary import CATEGORIES, Category
from infomediary.database import WriteSession
from infomediary.flows import profile_changed
from infomediary.profiles import service as profiles
from infomediary.profiles.errors import InvalidProfile
from infomediary.profiles.fields import FIELDS, LifeEvent
from infomediary.runtime import Runtime
from infomediary.text import Key

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
    "tags": "Separate them with commas, for example: cycling, jazz.",
    "lines": "One per line: what happened, then the date, e.g. moved_home 2024-05-01. Kinds: "
    + ", ".join(LIFE_EVENT_KINDS)
    + ".",
    "point": "Latitude, longitude, e.g. 52.37, 4.89.",
}
# Hints in the customer's words, for the fields whose stored form is a code.
FIELD_HINTS = {
    "country": "The two letters of your country, for example FR for France or GB for the United Kingdom.",
    "language": "For example en for English, fr for French, or pt-BR for Brazilian Portuguese.",
    "phone": "With the country code if you are not in the same country as most suppliers: +33 1 23 45 67 89.",
    "birth_date": "Day, month and year, as your browser's date picker shows them.",
    "email": "You log in with it. A new address takes effect once you follow the link we mail to it.",
}
# Why each sensitive category is optional, in a sentence a person can act on.
WHY_OPTIONAL = {
    "precise_location": "Optional: your postal code is enough for local offers; your exact position is only "
    "ever used where you allow it, one use at a time.",
    "health": "Optional: nothing here is needed for any offer. Fill it in only if you want suppliers you "
    "choose (a pharmacy, a diet service) to serve you better.",
    "religion": "Optional: nothing needs it. It is never used unless you allow one supplier one use.",
    "ethnicity": "Optional: nothing needs it. It is never used unless you allow one supplier one use.",
    "political_opinion": "Optional: nothing needs it. It is never used unless you allow one supplier one "
    "use.",
    "sexual_orientation": "Optional: nothing needs it. It is never used unless you allow one supplier one "
    "use.",
    "finances": "Optional: only offers you ask for (a loan, a savings account) could use it, and only with "
    "your permission each time.",
    "biometrics": "Optional: nothing needs it. It is never used unless you allow one supplier one use.",
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
                hint=FIELD_HINTS.get(view.key) or HINTS.get(kind),
            )
        )
    return list(sections.values())


def completeness(views: list[profiles.FieldView]) -> tuple[int, int]:
    """(filled, total) over the ordinary fields only: the sensitive ones are optional and never counted, so
    that no bar nudges anyone to give their health or beliefs to fill it."""
    ordinary = [v for v in views if v.sensitivity != "sensitive"]
    return sum(1 for v in ordinary if v.value is not None), len(ordinary)


def _category_or_404(category: str) -> Category:
    try:
        chosen = Category(category)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND) from None
    if not any(spec.category == chosen.value for spec in FIELDS.values()):
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return chosen


def _overview(request: Request, session: SessionDep, runtime: RuntimeDep, consumer: PageConsumer) -> Response:
    views = profiles.read_profile(session, runtime, consumer.customer_id)
    history = profiles.list_history(session, runtime, consumer.customer_id, limit=HISTORY_LIMIT)
    categories: dict[str, dict[str, Any]] = {}
    for view in views:
        entry = categories.setdefault(
            view.category,
            {
                "key": view.category,
                "label": CATEGORIES[Category(view.category)].label,
                "description": CATEGORIES[Category(view.category)].description,
                "sensitive": view.sensitivity == "sensitive",
                "why": WHY_OPTIONAL.get(view.category),
                "filled": 0,
                "total": 0,
            },
        )
        entry["total"] += 1
        entry["filled"] += view.value is not None
    filled, total = completeness(views)
    return render(
        request,
        "profile_index.html",
        {
            "consumer": consumer,
            "ordinary": [c for c in categories.values() if not c["sensitive"]],
            "sensitive": [c for c in categories.values() if c["sensitive"]],
            "filled": filled,
            "total": total,
            "history": list(reversed(history)),
            "labels": {key: spec.label for key, spec in FIELDS.items()},
        },
    )


def _category_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    consumer: PageConsumer,
    category: Category,
    *,
    submitted: FormData | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    views = [
        v for v in profiles.read_profile(session, runtime, consumer.customer_id) if v.category == category
    ]
    [section] = _sections(views, submitted)
    return render(
        request,
        "profile.html",
        {
            "consumer": consumer,
            "category": category.value,
            "section": section,
            "sensitive": any(v.sensitivity == "sensitive" for v in views),
            "why": WHY_OPTIONAL.get(category.value),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/profile")
def read_profile(
    request: Request, consumer: PageConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    return _overview(request, session, runtime, consumer)


@router.get("/profile/{category}")
def read_category(
    request: Request, category: Key, consumer: PageConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    return _category_page(request, session, runtime, consumer, _category_or_404(category))


@router.post("/profile/{category}")
async def update_category(
    request: Request,
    category: Key,
    consumer: PageConsumer,
    session: AsyncWriteSessionDep,
    runtime: RuntimeDep,
) -> Response:
    chosen = _category_or_404(category)
    form = await request.form()
    return await session.run(_save, request, runtime, consumer, chosen, form)


def _save(
    session: WriteSession,
    request: Request,
    runtime: Runtime,
    consumer: PageConsumer,
    category: Category,
    form: FormData,
) -> Response:
    # Only this page's fields: the others are on their own pages and stay as they are.
    keys = [key for key, spec in FIELDS.items() if spec.category == category.value]
    changes = {key: _parsed(_kind(key), form, key) for key in keys}
    errors: dict[str, str] = {}
    if "email" in changes and changes["email"] is None:
        # Checked here as well as by the service, so that it is reported together with the other fields.
        errors["email"] = EMAIL_REQUIRED
        del changes["email"]
    mailed = False
    try:
        updated = profile_changed.update_profile(
            session, runtime, consumer.customer_id, changes, actor="customer"
        )
        mailed = updated.email_confirmation_mailed
    except InvalidProfile as exc:
        for error in exc.extensions.get("errors", []):
            parts = error["pointer"].split("/")
            key = parts[2] if len(parts) > 2 else "_form"
            errors.setdefault(key, _plain(key, error["reason"]))
    if errors:
        session.rollback()  # all or nothing: a valid field is not saved while another one is refused
        return _category_page(
            request,
            session,
            runtime,
            consumer,
            category,
            submitted=form,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    # The same notice whether or not the new address is another account's (`flows.login_email_changed`).
    notice = "email-change-mailed" if mailed else "profile-saved"
    return redirect(request, f"/profile/{category.value}", notice=notice)


# What to do about a refused value, in the customer's words (the validator's own text is for developers).
PLAIN_ERRORS = {
    "email": "This does not look like an email address. Check for a missing @ or a typing mistake.",
    "phone": "This does not look like a phone number. Use digits and spaces, with + and the country code "
    "in front if you like.",
    "birth_date": "Give a real date in the past: day, month and year.",
    "postal_code": "This does not look like a postal code. Use letters, digits, spaces or dashes only.",
    "country": "Use the two letters of your country, for example FR or GB.",
    "language": "Use a language code such as en, fr or pt-BR.",
    "home_location": "Give two numbers separated by a comma: latitude, then longitude (52.37, 4.89).",
    "life_events": "Write one event per line: its kind from the list, a space, then its date (2024-05-01).",
    "household_size": "Give a whole number of people, from 1 to 30.",
    "monthly_savings": "Give a whole number of currency units, 0 or more.",
}


def _plain(key: str, reason: str) -> str:
    if key == "email" and reason == "cannot be null":
        return EMAIL_REQUIRED
    if key in PLAIN_ERRORS:
        return PLAIN_ERRORS[key]
    if "at most" in reason or "too long" in reason.lower():
        return "This is too long: shorten it, or give fewer items."
    return "This value is not accepted: check it and try again."
