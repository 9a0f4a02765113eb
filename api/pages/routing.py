"""Page routes: a route class that marks HTML routes and forces the CSRF check on every unsafe method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from api.pages.csrf import verify_csrf
from api.routing import UnitOfWorkRoute

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PageRoute(UnitOfWorkRoute):
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
