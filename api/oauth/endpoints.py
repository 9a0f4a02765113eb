"""Token and revocation endpoints, server metadata (RFC 8414) and the JWKS."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from api.deps import RuntimeDep, WriteSessionDep
from api.oauth.adapter import FORM_MEDIA_TYPE, StarletteAuthorizationServer, invalid_request, read_form
from api.oauth.schemas import OAuthForm
from api.problems import problem_responses
from api.ratelimit import rate_limited
from api.routing import api_router
from infomediary.settings import AUDITOR_SCOPES, SUPPLIER_SCOPES

router = api_router(tags=["oauth"])
FormDep = Annotated[dict[str, str], Depends(read_form)]

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {FORM_MEDIA_TYPE: {"schema": OAuthForm.model_json_schema()}},
    }
}


@router.post(
    "/oauth/token",
    summary="Client credentials grant (RFC 6749 section 4.4); returns an RFC 9068 JWT access token",
    responses=problem_responses(400, 401, 413, 429),
    openapi_extra=_FORM_BODY,
    dependencies=[rate_limited("token")],
)
def token(request: Request, form: FormDep, session: WriteSessionDep, runtime: RuntimeDep) -> Response:
    if "__invalid__" in form:
        return invalid_request(form["__invalid__"])
    response: Response = StarletteAuthorizationServer(session, runtime, form).create_token_response(request)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(
    "/oauth/revoke",
    summary="Revoke an access token (RFC 7009)",
    responses=problem_responses(400, 401, 413, 429),
    openapi_extra=_FORM_BODY,
    dependencies=[rate_limited("token")],
)
def revoke(request: Request, form: FormDep, session: WriteSessionDep, runtime: RuntimeDep) -> Response:
    if "__invalid__" in form:
        return invalid_request(form["__invalid__"])
    server = StarletteAuthorizationServer(session, runtime, form)
    response: Response = server.create_endpoint_response("revocation", request)
    return response


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
def metadata(runtime: RuntimeDep) -> dict[str, Any]:
    issuer = runtime.settings.issuer.rstrip("/")
    return {
        "issuer": runtime.settings.issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [*SUPPLIER_SCOPES, *AUDITOR_SCOPES],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
    }


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens and receipts")
def jwks(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(runtime.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
