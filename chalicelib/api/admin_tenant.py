"""A tenant admin's own settings and keys."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.requests import admin_caller, json_body
from chalicelib.api.routing import api_route
from chalicelib.api.tenant_schema import apply_settings, tenant_json
from chalicelib.services import registry
from chalicelib.services.auth import bearer_token

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/tenant", "GET")
def get_tenant() -> dict[str, Any]:
    return tenant_json(admin_caller(bp).tenant)


@api_route(bp, "/v1/admin/tenant", "PATCH")
def patch_tenant() -> dict[str, Any]:
    caller = admin_caller(bp)
    updated = apply_settings(caller.tenant, json_body(bp), registry.clock())
    return tenant_json(registry.tenant_service().save_settings(updated))


@api_route(bp, "/v1/admin/keys/rotate", "POST", status=201)
def rotate_secret_key() -> dict[str, Any]:
    caller = admin_caller(bp)
    presented = bearer_token(bp.current_request.headers.get("authorization")) or ""
    return {"secretKey": registry.tenant_service().rotate_secret_key(caller.tenant_id, presented)}
