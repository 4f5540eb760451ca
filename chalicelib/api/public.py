"""Public routes for clients booking (`X-Tenant-Key: pk_...`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.catalog_schema import public_service_json
from chalicelib.api.requests import public_caller
from chalicelib.api.routing import api_route
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(bp, "/v1/public/services", "GET")
def list_public_services() -> dict[str, Any]:
    caller = public_caller(bp)
    listed = registry.catalog_service().public_services(caller.tenant_id)
    return {
        "items": [public_service_json(service, provider_ids) for service, provider_ids in listed],
        "nextCursor": None,
    }
