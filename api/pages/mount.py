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
    effective,
    inbox,
    log,
    privacy_loss,
    profile,
    relay,
    rights,
    security,
    terms,
    time_zone,
    vouchers,
)
from api.pages.console import audit, supplier
from api.pages.gpc import PageGpcDep

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    modules = (
        account,
        account_links,
        dashboard,
        profile,
        consents,
        effective,
        terms,
        inbox,
        relay,
        log,
        privacy_loss,
        vouchers,
        rights,
        security,
        time_zone,
        supplier,
        audit,
    )
    app.state.page_routers = [module.router for module in modules]
    for module in modules:
        # The customer's pages honour Sec-GPC: 1 as her API routes do; the operator consoles have no customer.
        consumer_pages = module not in (supplier, audit)
        app.include_router(module.router, dependencies=[PageGpcDep] if consumer_pages else [])
