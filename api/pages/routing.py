"""Page routes: a route class that marks HTML routes and forces the CSRF check on every unsafe method."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages.csrf import verify_csrf
from api.routing import CommittingRoute

STATIC_DIR = Path(__file__).parent / "static"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PageRoute(CommittingRoute):
    """An HTML route: errors render as pages, and a POST cannot skip the CSRF check."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        if methods - SAFE_METHODS:
            kwargs["dependencies"] = [Depends(verify_csrf), *(kwargs.get("dependencies") or [])]
        kwargs.setdefault("include_in_schema", False)
        super().__init__(path, endpoint, **kwargs)


def page_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)


def page_routes(app: FastAPI) -> list[PageRoute]:
    """Every page route of the app (what the security tests walk: each POST must refuse a missing token)."""
    routers: list[APIRouter] = app.state.page_routers
    return [route for router in routers for route in router.routes if isinstance(route, PageRoute)]


def install(app: FastAPI) -> None:
    """Mounts the static files and every page group (imported here so the app factory names one function)."""
    from api.pages import account, consents, dashboard, inbox, log, profile, rights, terms
    from api.pages.console import audit, supplier

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    modules = (account, dashboard, profile, consents, terms, inbox, log, rights, supplier, audit)
    app.state.page_routers = [module.router for module in modules]
    for router in app.state.page_routers:
        app.include_router(router)
