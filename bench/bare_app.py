"""The baseline for `bench.http`: a bare FastAPI app with one sync route and no middleware, auth or database.

It is served by the same uvicorn, with the same options and worker count, as the real service, so the ratio
between the two measures what the service adds on top of FastAPI itself.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

# Roughly the size and shape of the real `GET /v1/supplier` body, so serialisation costs are comparable.
_BODY: dict[str, object] = {
    "id": "sup_bare",
    "name": "bare",
    "status": "active",
    "created_at": "2026-01-01T00:00:00Z",
    "scopes": ["audiences:read"],
}


@app.get("/bare")
def bare() -> dict[str, object]:
    # A sync route, like the real one: both run in Starlette's thread pool.
    return _BODY
