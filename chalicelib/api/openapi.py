"""`GET /v1/openapi.json` and `GET /v1/docs`: the contract, generated on request (never at import)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.routing import api_route

bp = Blueprint(__name__)


def _served() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in bp.current_app.routes.items() for method in methods}


@api_route(bp, "/v1/openapi.json", "GET", auth="none")
def get_openapi() -> dict[str, Any]:
    """This document"""
    from chalicelib.api.openapi_document import openapi_document  # pydantic's schema generator: this route only

    return openapi_document(_served())


@api_route(bp, "/v1/docs", "GET", auth="none", media="text/html")
def get_docs() -> Response:
    """This document as a browsable page (HTML without scripts or external assets)"""
    from chalicelib.api.docs_page import reference_html  # jinja2 only for this page
    from chalicelib.api.openapi_document import openapi_document

    page = reference_html(openapi_document(_served()))
    return Response(body=page, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
