"""Standing terms in plain language ("never share …", "only for at least … credits"), replaced as a whole by
one form. The same service as `PUT /v1/me/terms`."""

from __future__ import annotations

from fastapi import Request, Response, status
from starlette.datastructures import FormData

from api.deps import (
    AsyncWriteSessionDep,
    ReadSessionDep,
    RuntimeDep,
    SessionDep,
    keep_only_the_record,
)
from api.pages.auth import PageConsumer
from api.pages.rendering import redirect, render
from api.pages.routing import page_router
from consent.vocabulary import CATEGORIES, PURPOSES, Category, Purpose
from infomediary.consents import terms
from infomediary.database import WriteSession
from infomediary.errors import DomainError
from infomediary.flows import consent_changed
from infomediary.runtime import Runtime

router = page_router()
MAX_CREDITS = 1_000_000_000


def _sentence(term: terms.TermView) -> str:
    if term.kind == "never_category" and term.category is not None:
        return f"Never share {CATEGORIES[term.category].label.lower()}."
    if term.kind == "never_purpose" and term.purpose is not None:
        return f"Never allow {PURPOSES[term.purpose].label.lower()}."
    if term.kind == "min_price":
        what = CATEGORIES[term.category].label.lower() if term.category else "any of my data"
        return f"Use {what} only for at least {term.credits} credits."
    return "Deal only with suppliers that have no strikes against them."


def _page(
    request: Request,
    session: SessionDep,
    consumer: PageConsumer,
    *,
    submitted: FormData | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    current = terms.list_terms(session, consumer.customer_id)
    if submitted is not None:
        never_categories = set(submitted.getlist("never_category"))
        never_purposes = set(submitted.getlist("never_purpose"))
        prices = {k: str(v) for k, v in submitted.items() if k.startswith("min_price")}
        unstruck = bool(submitted.get("only_unstruck_suppliers"))
    else:
        never_categories = {t.category.value for t in current if t.kind == "never_category" and t.category}
        never_purposes = {t.purpose.value for t in current if t.kind == "never_purpose" and t.purpose}
        prices = {
            "min_price" + (f".{t.category.value}" if t.category else ""): str(t.credits)
            for t in current
            if t.kind == "min_price"
        }
        unstruck = any(t.kind == "only_unstruck_suppliers" for t in current)
    return render(
        request,
        "terms.html",
        {
            "consumer": consumer,
            "sentences": [_sentence(t) for t in current],
            "categories": [(c.value, CATEGORIES[c].label, CATEGORIES[c].sensitivity.value) for c in Category],
            "purposes": [(p.value, PURPOSES[p].label, PURPOSES[p].description) for p in Purpose],
            "never_categories": never_categories,
            "never_purposes": never_purposes,
            "prices": prices,
            "unstruck": unstruck,
            "errors": errors or {},
            # Open the per-category minimums when one of them is set or refused (works without script).
            "open_details": any(
                name.startswith("min_price.")
                for name in [*(errors or {}), *(k for k, v in prices.items() if v)]
            ),
        },
        status_code=status_code,
    )


def _specs(form: FormData) -> tuple[list[terms.TermSpec], dict[str, str]]:
    specs: list[terms.TermSpec] = []
    errors: dict[str, str] = {}
    for value in form.getlist("never_category"):
        try:
            specs.append(terms.TermSpec("never_category", category=Category(str(value))))
        except ValueError:
            errors["never_category"] = "Choose kinds of data from the list."
    for value in form.getlist("never_purpose"):
        try:
            specs.append(terms.TermSpec("never_purpose", purpose=Purpose(str(value))))
        except ValueError:
            errors["never_purpose"] = "Choose purposes from the list."
    for name, raw in form.items():
        if not name.startswith("min_price") or not str(raw).strip():
            continue
        _, _, category_key = name.partition(".")
        text = str(raw).strip()
        if not text.isdigit() or int(text) > MAX_CREDITS:
            errors[name] = f"Enter a whole number of credits from 0 to {MAX_CREDITS}."
            continue
        try:
            category = Category(category_key) if category_key else None
        except ValueError:
            errors[name] = "Unknown kind of data."
            continue
        specs.append(terms.TermSpec("min_price", category=category, credits=int(text)))
    if form.get("only_unstruck_suppliers"):
        specs.append(terms.TermSpec("only_unstruck_suppliers"))
    return specs, errors


@router.get("/terms")
def read_terms(request: Request, consumer: PageConsumer, session: ReadSessionDep) -> Response:
    return _page(request, session, consumer)


@router.post("/terms")
async def save_terms(
    request: Request, consumer: PageConsumer, session: AsyncWriteSessionDep, runtime: RuntimeDep
) -> Response:
    form = await request.form()
    return await session.run(_save, request, consumer, runtime, form)


def _save(
    session: WriteSession, request: Request, consumer: PageConsumer, runtime: Runtime, form: FormData
) -> Response:
    specs, errors = _specs(form)
    if not errors:
        try:
            consent_changed.replace_terms(session, runtime, consumer.customer_id, specs)
        except DomainError as exc:
            keep_only_the_record(session, exc.record)
            errors["_form"] = exc.detail
        else:
            return redirect(request, "/terms", notice="terms-saved")
    return _page(
        request,
        session,
        consumer,
        submitted=form,
        errors=errors,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
