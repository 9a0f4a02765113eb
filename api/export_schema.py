"""The export format's JSON Schema, published for anyone: what `GET /v1/me/export` documents are valid
against, at the address each names in its `$schema` key."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.routing import api_router
from infomediary.portability.published import SCHEMA_PATH, published_schema

router = api_router(tags=["consumer"])
MEDIA_TYPE = "application/schema+json"


@router.get(
    SCHEMA_PATH,
    summary="The JSON Schema (draft 2020-12) of the export format infomediary.export/v2",
    response_class=JSONResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The schema."}},
)
def export_schema(runtime: RuntimeDep) -> JSONResponse:
    schema: dict[str, Any] = published_schema(runtime.settings)
    return JSONResponse(schema, media_type=MEDIA_TYPE)
