"""The application factory: one FastAPI app with a router per actor, problem+json errors and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from api import problems
from api.accounts.endpoints import router as accounts_router
from api.audit.endpoints import public_router as audit_public_router
from api.audit.endpoints import router as audit_router
from api.export_schema import router as export_schema_router
from api.gpc import GpcDep
from api.gpc import router as gpc_router
from api.me.consents import router as consents_router
from api.me.endpoints import router as me_router
from api.me.log_endpoints import router as me_log_router
from api.me.offers import router as me_offers_router
from api.me.privacy_loss import router as privacy_loss_router
from api.me.profile import router as profile_router
from api.me.recommendations import router as me_recommendations_router
from api.me.relay import router as me_relay_router
from api.me.rewards import router as rewards_router
from api.me.rights import router as rights_router
from api.me.second_factor import router as second_factor_router
from api.me.supplier_requests import router as me_supplier_requests_router
from api.me.vouchers import router as me_vouchers_router
from api.middleware import BodyLimitMiddleware, Metrics, ObservabilityMiddleware
from api.oauth.endpoints import router as oauth_router
from api.operations import check_policy_log_at_start
from api.operations import router as operations_router
from api.pages import errors as page_errors
from api.pages import mount as pages
from api.pages.headers import PAGE_HEADERS, PAGE_HEADERS_EXEMPT
from api.relay_images import router as relay_images_router
from api.supplier.audiences.endpoints import router as audiences_router
from api.supplier.endpoints import router as supplier_router
from api.supplier.ledger import router as supplier_ledger_router
from api.supplier.offers.endpoints import router as offers_router
from api.supplier.policy import router as supplier_policy_router
from api.supplier.products.endpoints import router as products_router
from api.supplier.recommendations.endpoints import router as recommendations_router
from api.supplier.sending_domain import router as supplier_sending_domain_router
from api.supplier.slices.endpoints import router as slices_router
from api.supplier.supplier_requests.endpoints import router as supplier_requests_router
from api.supplier.vouchers.endpoints import router as vouchers_router
from api.supplier.webhooks import router as supplier_webhooks_router
from infomediary.logs import configure_logging
from infomediary.oauth.bearer import BearerAuthenticator
from infomediary.recommendations import ranking
from infomediary.runtime import Runtime
from infomediary.schema import require_head
from infomediary.settings import Settings

TAGS = [
    {"name": "consumer", "description": "Customers: accounts, sessions and their own data."},
    {"name": "supplier", "description": "Suppliers, with OAuth 2.0 client-credential tokens and scopes."},
    {
        "name": "audit",
        "description": "Auditors: the policy log, its proofs, reports, findings and sanctions.",
    },
    {"name": "oauth", "description": "Token issuance, revocation and discovery."},
    {"name": "operations", "description": "Health, readiness and metrics for operators."},
]


def _check_before_serving(app: FastAPI, runtime: Runtime) -> None:
    # Refuse to serve a stale schema or missing keys: the error names the command that fixes it.
    require_head(runtime.engine)
    runtime.keys.signing_keys()
    runtime.keys.secret("blind_index")
    # A log whose size, entries and nodes disagree starts anyway but not ready: see api.operations.
    check_policy_log_at_start(app, runtime)
    runtime.vault  # noqa: B018 - opens the key file and erasure keys now, so a missing one fails at start


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime.create(settings or Settings())
    configure_logging(runtime.settings.log_level, json=runtime.settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are short and mostly CPU-bound under the GIL: fewer threads than AnyIO's 40 means less
        # contention for the same throughput.
        to_thread.current_default_thread_limiter().total_tokens = runtime.settings.worker_threads
        ranking.one_blas_thread_per_process()
        # Start-up checks on the synchronous engines, on a thread: never a blocking call on the event loop.
        await to_thread.run_sync(_check_before_serving, app, runtime)
        # The request path's engines belong to this event loop (asyncpg connections cannot change loops).
        sessions = app.state.request_sessions = runtime.open_request_sessions()
        try:
            yield
        finally:
            app.state.request_sessions = None
            if sessions is not runtime.request_sessions:
                await sessions.close()
            runtime.close()

    app = FastAPI(
        title="Infomediary",
        version="0.1.0",
        summary="Customers own their data; suppliers reach them only through a consent-gated broker.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        # Our own metrics are Prometheus's (`/metrics`); FastAPI's OpenTelemetry hooks, off, cost nothing
        # per request instead of a provider lookup on each.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.bearer = BearerAuthenticator(runtime)
    app.state.metrics = Metrics()

    problems.install(
        app, pages=problems.PageErrors(wants=page_errors.wants_page, render=page_errors.render_problem)
    )
    problems.document(app)
    # Route matching is linear over routers, in this order: the brokered supplier API, which carries the
    # volume, comes first; consumers, auditors and operators after.
    for router in (
        supplier_router,
        audiences_router,
        slices_router,
        offers_router,
        recommendations_router,
        products_router,
        supplier_requests_router,
        vouchers_router,
        supplier_policy_router,
        supplier_ledger_router,
        supplier_webhooks_router,
        supplier_sending_domain_router,
        oauth_router,
        accounts_router,
    ):
        app.include_router(router)
    # Sec-GPC: 1 on any consumer route records the customer's opt-out of sale and sharing.
    consumer_routers = (
        me_router,
        profile_router,
        rights_router,
        me_log_router,
        consents_router,
        me_supplier_requests_router,
        me_offers_router,
        rewards_router,
        me_vouchers_router,
        me_recommendations_router,
        privacy_loss_router,
        second_factor_router,
        me_relay_router,
    )
    for router in consumer_routers:
        app.include_router(router, dependencies=[GpcDep])
    for router in (
        audit_router,
        audit_public_router,
        gpc_router,
        export_schema_router,
        operations_router,
        relay_images_router,
    ):
        app.include_router(router)
    # Pages last: their paths (`/`, `/profile` ...) never shadow an API route.
    pages.install(app)

    # Added last = outermost: the request id exists before anything else runs.
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=app.state.metrics,
        html_headers=PAGE_HEADERS,
        html_exempt=PAGE_HEADERS_EXEMPT,
    )
    return app
