"""The time zone the pages show times in: chosen on its own page, kept in a cookie of this browser.

Pages without JavaScript cannot read the browser's time zone, so the person says it (a link in every
page's footer). A cookie, not an account setting: it is this device's clock that matters (the same person
reads the pages at home and abroad), it works before sign-in, and it keeps nothing about her in the
database. The value is an IANA zone name, checked against the zones this machine knows
(`rendering.time_zone` turns any other cookie into UTC), so a cookie can never make a page fail.
"""

from __future__ import annotations

from fastapi import Form, Query, Request, Response

from api.pages.auth import OptionalConsumer
from api.pages.rendering import TIME_ZONE_COOKIE, redirect, render, zones
from api.pages.routing import page_router

router = page_router()
ONE_YEAR = 365 * 24 * 3600


def _local_path(back: str) -> str:
    # Only a path of this site, never another origin: `back` is echoed into a link and a redirect.
    return back if back.startswith("/") and not back.startswith("//") and "\\" not in back else "/"


@router.get("/time-zone")
def time_zone_page(
    request: Request, consumer: OptionalConsumer, back: str = Query("/", max_length=200)
) -> Response:
    return render(
        request, "time_zone.html", {"consumer": consumer, "zones": zones(), "back": _local_path(back)}
    )


@router.post("/time-zone")
def choose_time_zone(
    request: Request, zone: str = Form(max_length=64), back: str = Form("/", max_length=200)
) -> Response:
    response = redirect(request, _local_path(back))
    if zone in zones():
        response.set_cookie(
            TIME_ZONE_COOKIE,
            zone,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
