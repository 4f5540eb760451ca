"""Admin CRUD of services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import catalog, catalog_models, model_types, registry
from chalicelib.api.requests import page
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/services", "POST", auth="admin", status=201)
def create_service(caller: Caller, body: catalog_models.NewService) -> catalog_models.Service:
    """Create a service (currency defaults to the tenant's)"""
    catalog_service = registry.catalog_service()
    service = body.to_domain(catalog_service.new_service_id(), caller.tenant.currency, registry.clock())
    return catalog_models.Service.of(catalog_service.create_service(caller.tenant, service))


@api_route(bp, "/v1/admin/services", "GET", auth="admin")
def list_services(caller: Caller, query: model_types.Page) -> catalog_models.ServicePage:
    """List services"""
    return catalog_models.ServicePage.of(
        page(query, registry.catalog_service().list_services(caller.tenant_id), lambda s: s.id)
    )


@api_route(bp, "/v1/admin/services/{service_id}", "GET", auth="admin")
def get_service(caller: Caller, service_id: str) -> catalog_models.Service:
    """Read a service"""
    return catalog_models.Service.of(registry.catalog_service().get_service(caller.tenant_id, service_id))


@api_route(
    bp, "/v1/admin/services/{service_id}", "PATCH", auth="admin", body="catalog_models.ServicePatch", errors=(409,)
)
def patch_service(caller: Caller, service_id: str, body: model_types.Body) -> catalog_models.Service:
    """Change some fields of a service; the whole is checked again"""

    def edit(current: catalog.Service) -> catalog.Service:
        changed = model_types.patched(catalog_models.NewService, catalog_models.Service.of(current), body)
        return changed.to_domain(current.id, current.currency, registry.clock(), current.created_at, current.version)

    return catalog_models.Service.of(registry.catalog_service().update_service(caller.tenant_id, service_id, edit))


@api_route(bp, "/v1/admin/services/{service_id}", "DELETE", auth="admin", status=204)
def delete_service(caller: Caller, service_id: str) -> None:
    """Delete a service"""
    registry.catalog_service().delete_service(caller.tenant_id, service_id)
