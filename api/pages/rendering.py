"""Rendering pages: one Jinja2 environment (autoescaped), `render` for pages, `redirect` after a write."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.pages import csrf
from infomediary.audiences.noise import MILLI

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Flash messages travel as a key in the redirect's query string and are looked up here, so a crafted link can
# only ever show one of these sentences (never text of its own).
NOTICES: dict[str, str] = {
    "logged-in": "You are logged in.",
    "logged-out": "You are logged out.",
    "profile-saved": "Your profile is saved.",
    "consent-granted": "Consent given. You can withdraw it at any time, here, with one click.",
    "consent-refused": "Refusal recorded. That supplier may not use this data for this purpose.",
    "consent-withdrawn": (
        "Consent withdrawn. It is in force now: no later answer to that supplier includes you."
    ),
    "all-withdrawn": "Every consent is withdrawn. It is in force now.",
    "nothing-to-withdraw": "There was no consent in force to withdraw.",
    "terms-saved": "Your standing terms are saved.",
    "request-accepted": "Request accepted; the receipt is in your consents.",
    "request-refused": "Request refused.",
    "offer-accepted": "Offer accepted.",
    "offer-dismissed": "Offer removed from your inbox.",
    "offer-reported": "Offer reported as unwanted. It counts against the supplier.",
    "restricted": "Processing is restricted: no supplier may use your data until you lift it.",
    "restriction-lifted": "The restriction is lifted.",
    "privacy-cap-saved": "Your privacy-loss limit is saved. It applies from the next statistic.",
    "privacy-cap-default": "Your privacy-loss limit is back to the default.",
    "password-changed": "Your password is changed; your other sessions are logged out.",
    "email-verified": "Your address is confirmed. Log in to start.",
    "link-resent": "If an account with that address waits for confirmation, a new link is on its way to it.",
    "reset-requested": "If an account has that address, a link to set a new password is on its way to it.",
    "password-reset": "Your new password is set and every session is logged out. Log in with it now.",
    "second-factor-off": "Two-step sign-in is off. Your password alone signs you in now.",
    # The operator pages (api/pages/console).
    "sanction-recorded": "The sanction is recorded in the policy log and the supplier's status is updated.",
}


def _csrf_field(request: Request) -> Markup:
    token = csrf.issue(request)
    return Markup('<input type="hidden" name="{}" value="{}">').format(csrf.FIELD, token)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def epsilon(milli: int) -> str:
    """Milli-epsilon as a person reads (and types) it: "2.5", not "2.500" or "2500"."""
    return f"{milli / MILLI:.3f}".rstrip("0").rstrip(".")


def _plain(value: Any) -> str:
    """A profile value (JSON) as a person reads it: lists joined, objects as "key: value"."""
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items())
    return str(value)


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["plain"] = _plain
TEMPLATES.env.filters["epsilon"] = epsilon


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    notice_key = request.query_params.get("notice")
    values: dict[str, Any] = {
        "notice": NOTICES.get(notice_key) if notice_key else None,
        "csrf_field": lambda: _csrf_field(request),
        "errors": {},
        "path": request.url.path,
    }
    values.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    # TemplateResponse renders eagerly, so a token issued while rendering has its cookie set here.
    csrf.attach_presession(request, response)
    return response


def redirect(request: Request, path: str, *, notice: str | None = None) -> RedirectResponse:
    """303 See Other after a POST (Post/Redirect/Get), with an optional notice key for the next page."""
    if notice is not None:
        assert notice in NOTICES, notice
        path = f"{path}{'&' if '?' in path else '?'}{urlencode({'notice': notice})}"
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)
