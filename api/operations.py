"""Operator routes: liveness, readiness (database reachable, at head, policy log whole) and metrics.

The policy log's wholeness is part of readiness. Start-up runs the thorough check once
(`check_policy_log_at_start`); every `/readyz` runs the cheap one. What an operator gets when the log is not
whole:

* The process starts anyway and stays up, answering `/healthz`, and `/readyz` answers 503 problem+json
  naming the disagreement, so a load balancer or orchestrator takes it out of rotation. Refusing to start
  would only crash-loop: a restart cannot repair the log, and a crash loop hides the reason behind restarts
  and back-off, where a 503 with a detail and an error in the log name it.
* The finding of the start-up check holds until the process restarts, even if the cheap check passes later:
  the cheap check cannot see an entry or inner node missing under a stored frontier node, and re-running the
  thorough one (a scan of the log) on every probe of a broken instance would load the database shared with
  the healthy ones. Repairing a log (restoring a backup, truncating to the last whole size) is deliberate
  work; restarting after it runs the thorough check again, which is what proves the repair.
* Each disagreement is logged as an error once per process when first found (at start-up, or by the probe
  that first sees it), not on every probe, and an info line when the log is whole again.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import ReadSessionDep
from api.problems import problem_responses
from api.routing import api_router
from infomediary.errors import ServiceUnavailable
from infomediary.policylog.errors import PolicyLogNotWhole
from infomediary.policylog.integrity import LogIntegrity, full_check, quick_check
from infomediary.runtime import Runtime
from infomediary.schema import require_head

router = api_router(tags=["operations"])
log = structlog.get_logger(__name__)

AT_START = " (found at start-up; restart the service once the log is repaired)"


class Health(BaseModel):
    status: str


@dataclass
class LogWatch:
    """What this process knows of the policy log's wholeness (on `app.state.policy_log`)."""

    at_start: LogIntegrity | None = None
    # The detail last logged as an error, so that a probe logs a disagreement once, not every few seconds.
    reported: str | None = None

    def report(self, detail: str, finding: LogIntegrity) -> None:
        if detail != self.reported:
            log.error("policy_log_not_whole", detail=detail, **finding.figures())
            self.reported = detail

    def recovered(self) -> None:
        if self.reported is not None:
            log.info("policy_log_whole_again")
            self.reported = None


def watch(app: FastAPI) -> LogWatch:
    found: LogWatch | None = getattr(app.state, "policy_log", None)
    if found is None:
        found = app.state.policy_log = LogWatch()
    return found


def check_policy_log_at_start(app: FastAPI, runtime: Runtime) -> LogIntegrity:
    """Run the thorough check once and remember it for `/readyz`; log the figures either way.

    Never raises for a log that is not whole: see the module's docstring for why the process stays up, not
    ready, instead of refusing to start.
    """
    with runtime.read_session_factory() as session:
        finding = full_check(session)
    state = watch(app)
    state.at_start = finding
    if finding.whole:
        log.info("policy_log_whole", **finding.figures())
    else:
        state.report(finding.describe() + AT_START, finding)
    return finding


def _require_whole_log(app: FastAPI, session: Session) -> None:
    """The cheap check now (a few index lookups), else the start-up finding; 503 if either disagrees."""
    state = watch(app)
    now = quick_check(session)
    if not now.whole:
        detail, finding = now.describe(), now
    elif state.at_start is not None and not state.at_start.whole:
        detail, finding = state.at_start.describe() + AT_START, state.at_start
    else:
        state.recovered()
        return
    state.report(detail, finding)
    raise PolicyLogNotWhole(detail)


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problem_responses(503), summary="Ready to serve")
def readyz(request: Request, session: ReadSessionDep) -> Health:
    try:
        connection = session.connection()
        connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("the database is not reachable") from exc
    require_head(connection)
    _require_whole_log(request.app, session)
    return Health(status="ready")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
