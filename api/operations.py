"""Operator routes: liveness, readiness (database reachable and at head) and Prometheus metrics."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import RuntimeDep
from api.problems import problem_responses
from api.routing import api_router
from infomediary.errors import ServiceUnavailable
from infomediary.schema import require_head

router = api_router(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problem_responses(503), summary="Ready to serve")
def readyz(runtime: RuntimeDep) -> Health:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("the database is not reachable") from exc
    require_head(runtime.engine)
    return Health(status="ready")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
