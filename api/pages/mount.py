"""Mounting the pages on the app: the static files and every page group, in one call for the factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    account,
    account_links,
    consents,
    dashboard,
    inbox,
    log,
    privacy_loss,
    profile,
    rights,
    security,
    terms,
)
from api.pages.console import audit, supplier

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    modules = (
        account,
        account_links,
        dashboard,
        profile,
        consents,
        terms,
        inbox,
        log,
        privacy_loss,
        rights,
        security,
        supplier,
        audit,
    )
    app.state.page_routers = [module.router for module in modules]
    for router in app.state.page_routers:
        app.include_router(router)
