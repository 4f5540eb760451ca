"""Platform operator routes (`Authorization: Bearer <PLATFORM_API_KEY>`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.requests import json_body, platform_caller
from chalicelib.api.routing import api_route
from chalicelib.api.tenant_schema import parse_new_tenant, tenant_json
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(bp, "/v1/platform/tenants", "POST", status=201)
def create_tenant() -> dict[str, Any]:
    platform_caller(bp)
    opened = registry.tenant_service().open_tenant(parse_new_tenant(json_body(bp)))
    return {
        "tenant": tenant_json(opened.tenant),
        "publishableKey": opened.publishable_key,
        "secretKey": opened.secret_key,
    }
