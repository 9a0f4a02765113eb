"""Problems on page routes render as an HTML error page (the same status, title and detail as the problem+json
the API would send); a missing session becomes a redirect to the log-in page."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import Request, Response, status
from fastapi.responses import RedirectResponse

from api.pages.headers import PAGE_HEADERS
from api.pages.rendering import render
from api.pages.routing import PageRoute

# Paths that belong to machines: an unmatched path under these stays problem+json whatever the Accept header.
API_PREFIXES = ("/v1/", "/oauth/", "/.well-known/", "/metrics", "/healthz", "/readyz", "/docs", "/openapi")


# Operator pages have their own log-in forms (api/pages/console); everything else logs in as a consumer.
LOGIN_PAGES = (("/supplier", "/supplier/login"), ("/audit", "/audit/login"))


def login_page(path: str) -> str:
    for prefix, login in LOGIN_PAGES:
        if path == prefix or path.startswith(prefix + "/"):
            return login
    return "/login"


def wants_page(request: Request) -> bool:
    if isinstance(request.scope.get("route"), PageRoute):
        return True
    if request.scope.get("route") is not None or request.url.path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def render_problem(request: Request, problem: Response) -> Response:
    """Turns a problem+json response into the page a person sees."""
    body = json.loads(bytes(problem.body))
    if problem.status_code == status.HTTP_401_UNAUTHORIZED:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = login_page(request.url.path)
        if request.method != "GET":
            target = "/" if login == "/login" else login.removesuffix("/login")
        return RedirectResponse(
            f"{login}?{urlencode({'next': target})}", status_code=status.HTTP_303_SEE_OTHER
        )
    page = render(
        request,
        "error.html",
        {"problem": body, "consumer": None},
        status_code=problem.status_code,
    )
    for name, value in problem.headers.items():
        if name.lower() in {"retry-after", "x-request-id"}:
            page.headers[name] = value
    # A 500 is answered outside the middleware stack: set the page headers here too.
    for raw_name, raw_value in PAGE_HEADERS:
        page.headers.setdefault(raw_name.decode(), raw_value.decode())
    return page
