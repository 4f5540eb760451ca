"""Public routes for clients booking (`X-Tenant-Key: pk_...`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import catalog_models, registry
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)


@api_route(bp, "/v1/public/services", "GET", auth="public")
def list_public_services(caller: Caller) -> catalog_models.PublicServicePage:
    """Active services with the providers that offer them"""
    listed = registry.catalog_service().public_services(caller.tenant_id)
    items = [catalog_models.PublicService.of(service, provider_ids=provider_ids) for service, provider_ids in listed]
    return catalog_models.PublicServicePage.of(dict(items=items, next_cursor=None))
