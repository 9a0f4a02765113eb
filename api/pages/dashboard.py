"""The privacy centre's front page: how complete the profile is, the reward balance, the latest uses of the
customer's data, and what waits for an answer."""

from __future__ import annotations

from fastapi import Request, Response

from api.deps import ReadSessionDep, RuntimeDep
from api.pages.auth import OptionalConsumer
from api.pages.profile import completeness
from api.pages.rendering import render
from api.pages.routing import page_router
from api.tree_heads import FreshTreeHead
from infomediary.consents import supplier_requests
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import statement
from infomediary.offers import received
from infomediary.policylog.customer_view import customer_log, verified_leaves
from infomediary.profiles import restriction
from infomediary.profiles import service as profiles

router = page_router()
LATEST_USES = 5


@router.get("/", dependencies=[FreshTreeHead])
def dashboard(
    request: Request, consumer: OptionalConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> Response:
    if consumer is None:
        return render(request, "welcome.html", {"consumer": None})
    customer_id = consumer.customer_id
    filled, total = completeness(profiles.read_profile(session, runtime, customer_id))
    log = customer_log(session, runtime, customer_id, limit=LATEST_USES, newest_first=True)
    pending, _ = supplier_requests.pending(session, customer_id, cursor=None, limit=20)
    return render(
        request,
        "dashboard.html",
        {
            "consumer": consumer,
            "filled": filled,
            "total": total,
            "percent": round(100 * filled / total) if total else 0,
            "balance": statement(session, OwnerKind.CUSTOMER, customer_id, cursor=None, limit=1).balance,
            "uses": log.lines,
            "verified": verified_leaves(runtime, log),
            "pending": pending,
            "offers": received.shown_offers(session, customer_id),
            "restriction": restriction.describe(session, customer_id),
        },
    )


@router.get("/privacy")
def privacy_policy(request: Request, consumer: OptionalConsumer) -> Response:
    """The controller's privacy notice, open to everyone (GDPR art. 13: before anyone signs up)."""
    return render(request, "privacy.html", {"consumer": consumer})
