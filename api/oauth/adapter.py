"""The thin Starlette adapter authlib needs: an `OAuth2Request` in, a problem+json-compatible response out.

authlib ships no FastAPI server integration; this is the whole adapter, no grant logic of our own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.oauth.schemas import OAuthForm
from api.problems import PROBLEM_MEDIA_TYPE
from infomediary.database import WriteSession
from infomediary.errors import problem_type
from infomediary.oauth.server import BrokerAuthorizationServer
from infomediary.runtime import Runtime

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class StarletteAuthorizationServer(BrokerAuthorizationServer):
    def __init__(self, session: WriteSession, runtime: Runtime, form: dict[str, str]) -> None:
        super().__init__(session, runtime)
        self._form = form

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        assert isinstance(request, Request)
        # The issuer, not the socket, says whether the public URL is https (TLS usually ends at a proxy).
        uri = self.runtime.settings.issuer.rstrip("/") + request.url.path
        return StarletteOAuth2Request(request.method, uri, request.headers, self._form)

    def handle_response(self, status: int, body: Any, headers: Any) -> JSONResponse:
        header_map = dict(headers or [])
        header_map.pop("Content-Type", None)
        if status >= 400 and isinstance(body, dict) and "error" in body:
            # RFC 6749 section 5.2 fields plus RFC 9457 fields in one object: both kinds of client parse it.
            error = str(body["error"])
            problem = {
                "type": problem_type(f"oauth-{error.replace('_', '-')}"),
                "title": error.replace("_", " ").capitalize(),
                "status": status,
                "detail": body.get("error_description") or error,
                **body,
            }
            return JSONResponse(
                problem, status_code=status, headers=header_map, media_type=PROBLEM_MEDIA_TYPE
            )
        return JSONResponse(body, status_code=status, headers=header_map)


async def read_form(request: Request) -> dict[str, str]:
    """Parse an RFC 6749 form body; repeated parameters are an error per RFC 6749 section 3.2, and so is a
    value out of its bounds (`OAuthForm`)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        return {"__invalid__": f"the body must be {FORM_MEDIA_TYPE}"}
    body = (await request.body()).decode("utf-8", errors="replace")
    pairs = parse_qsl(body, keep_blank_values=True)
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            return {"__invalid__": f"parameter {key!r} is repeated"}
        form[key] = value
    try:
        OAuthForm.model_validate(form)
    except ValidationError as exc:
        error = exc.errors()[0]
        return {"__invalid__": f"parameter {'.'.join(map(str, error['loc']))!r}: {error['msg']}"}
    return form


def invalid_request(detail: str) -> JSONResponse:
    body = {
        "type": problem_type("oauth-invalid-request"),
        "title": "Invalid request",
        "status": 400,
        "detail": detail,
        "error": "invalid_request",
        "error_description": detail,
    }
    return JSONResponse(body, status_code=400, media_type=PROBLEM_MEDIA_TYPE)
