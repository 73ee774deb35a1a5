"""The API's one error shape, {"error": {"message", "field"}}: the handlers that answer it and its OpenAPI record."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from warroom.api.gate import LINK_ACK, READ_METHODS
from warroom.api.params import ApiError
from warroom.api.read_only import served

# every error answer the routes can give, for the OpenAPI schema (clients and the fuzzer read it)
_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}


_ERROR_WORDS = {"400": "Bad request (e.g. an unreadable Content-Length)", "403": "Refused: missing or wrong token",
                "404": "No such alert, metric, collector, silence or step",
                "409": "Conflicts with the current state (e.g. a push to a polled metric)", "413": "Body too large",
                "422": "Invalid parameter or body; `field` names it",
                "429": "Too many refused ack or sign-in links from this client; retry later",
                "401": "Signed out: the X-Warroom-Session is unknown, ended or expired"}


def answer_errors(app: FastAPI) -> None:
    """Answer ApiError, FastAPI's refusals and invalid requests in the one error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"message": err.message, "field": err.field}}, status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        headers = getattr(err, "headers", None)
        if err.status_code in (404, 405):
            # no such route: FastAPI's own {"detail": ...}, which the board reads as "this daemon lacks it"
            return JSONResponse({"detail": err.detail}, status_code=err.status_code, headers=headers)
        # FastAPI's other refusals (an undecodable body) in the API's one error shape
        return JSONResponse({"error": {"message": str(err.detail), "field": None}}, status_code=err.status_code,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"][1:]) or None
        msg = f"{field}: {first['msg']}" if field else first["msg"]
        return JSONResponse({"error": {"message": msg, "field": field}}, status_code=422)


def document_errors(app: FastAPI, read_only: bool = False) -> None:
    """Make the OpenAPI schema tell the truth about errors: every answer a route can give, in its real shape.

    FastAPI documents only 422 and as {"detail": [...]}; the API answers {"error": {message, field}}
    and also 400/403/404/413 (and 429 on ack links), which clients and the fuzzer read from here.
    On an archive (`read_only`) a read that needs the live night answers 409 as well.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        refused = {(route.path, method.lower()) for route in served(app)
                   for method in route.refused_on_archive()} if read_only else set()
        for path, methods in schema.get("paths", {}).items():
            for method, operation in methods.items():
                codes = ["400", "404", "422"]
                if method.upper() not in READ_METHODS:
                    codes += ["403", "409", "413"]
                if LINK_ACK.match(path.replace("{alert_id}", "1")):
                    codes += ["403", "429"]
                if method.upper() not in READ_METHODS or path == "/api/v1/signin":
                    codes += ["401", "403"]  # a person's session (warroom.api.routes.people)
                if path == "/api/v1/signin" and method.upper() == "POST":
                    codes += ["429"]
                if (path, method) in refused:
                    codes += ["409"]
                responses = operation.setdefault("responses", {})
                # a page for people (the ack form) answers its own refusals as a page too
                html = "text/html" in responses.get("200", {}).get("content", {})
                for code in dict.fromkeys(codes):
                    content: dict[str, Any] = {"application/json": {"schema": _ERROR_SCHEMA}}
                    if html:
                        content["text/html"] = {"schema": {"type": "string"}}
                    responses[code] = {"description": _ERROR_WORDS[code], "content": content}
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
