"""Public routes for clients booking (`X-Tenant-Key: pk_...`)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog_models import PublicService, PublicServicePage
from chalicelib.api.routing import api_route
from chalicelib.services import registry
from chalicelib.services.auth import Caller

bp = Blueprint(__name__)


@api_route(bp, "/v1/public/services", "GET", auth="public", response=PublicServicePage)
def list_public_services(caller: Caller) -> PublicServicePage:
    """Active services with the providers that offer them"""
    listed = registry.catalog_service().public_services(caller.tenant_id)
    items = [PublicService.of(service, provider_ids=provider_ids) for service, provider_ids in listed]
    return PublicServicePage.of(dict(items=items, next_cursor=None))
