"""Rendering pages: one Jinja2 environment (autoescaped), `render` for pages, `redirect` after a write."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
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
    "email-change-mailed": (
        "Your profile is saved. To change your email address, check your mail at the new address and follow "
        "the link there. Until then your address and your login stay as they are."
    ),
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
    "gpc-recorded": (
        "Your browser's Global Privacy Control signal opted you out of sale and sharing of your data with all"
        " suppliers. A yes you give one supplier from now on still counts for that supplier."
    ),
    "cell-switched": "Your answer is recorded and in force now. The receipt is with your consents.",
    "cell-unchanged": "That supplier was already refused this use: nothing changed.",
    "alias-off": "The relay address is switched off: its mail is refused from now on.",
    "images-block": "Remote images are blocked in the mail relayed to you from now on.",
    "images-proxy": "Remote images in the mail relayed to you are loaded through the broker from now on.",
    "alias-on": "The relay address is switched on again: its mail reaches you while your consent allows it.",
    "email-verified": "Your address is confirmed. Log in to start.",
    "email-changed": "Your new address is confirmed. Log in with it from now on.",
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


TIME_ZONE_COOKIE = "tz"


@lru_cache(maxsize=1)
def zones() -> frozenset[str]:
    """The IANA zones this machine knows (the regional ones and UTC): the only values a cookie may name."""
    return frozenset(z for z in available_timezones() if "/" in z or z == "UTC")


def time_zone(request: Request) -> ZoneInfo:
    """The zone this browser chose (`api.pages.time_zone`), else UTC; a bad cookie is UTC, never an error."""
    name = request.cookies.get(TIME_ZONE_COOKIE, "UTC")
    try:
        return ZoneInfo(name) if name in zones() else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


UTC_ZONE = ZoneInfo("UTC")


@pass_context
def _when(context: Context, value: datetime | None) -> str:
    """A time in the reader's chosen zone, with the zone named (UTC when none was chosen)."""
    if value is None:
        return ""
    zone: ZoneInfo = context.get("time_zone") or UTC_ZONE
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone.key)


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


REQUEST_NOTICES = "notices"
"""Where `add_notice` keeps, on `request.state`, the notices of what a request did besides its own work."""


def add_notice(request: Request, key: str) -> None:
    """A notice of something this request did on its own account (a dependency recorded a browser signal):
    shown on the page it renders, or carried through the redirect its handler answers with."""
    assert key in NOTICES, key
    keys: list[str] = getattr(request.state, REQUEST_NOTICES, [])
    setattr(request.state, REQUEST_NOTICES, [*keys, key])


def _own_notices(request: Request) -> list[str]:
    return list(getattr(request.state, REQUEST_NOTICES, []))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    keys = dict.fromkeys([*request.query_params.getlist("notice"), *_own_notices(request)])
    shown = [NOTICES[k] for k in keys if k in NOTICES]
    values: dict[str, Any] = {
        "notice": " ".join(shown) or None,
        "csrf_field": lambda: _csrf_field(request),
        "errors": {},
        "path": request.url.path,
        "service": request.app.state.runtime.settings,
        "time_zone": time_zone(request),
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
    keys = list(dict.fromkeys([*([] if notice is None else [notice]), *_own_notices(request)]))
    if keys:
        # The query goes before a fragment (`/page#section`), which the browser keeps for the next page.
        path, mark, fragment = path.partition("#")
        query = urlencode([("notice", k) for k in keys])
        path = f"{path}{'&' if '?' in path else '?'}{query}{mark}{fragment}"
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)
