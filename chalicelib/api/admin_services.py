"""Admin CRUD of services."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog_models import NewService, Service, ServicePage
from chalicelib.api.model_types import Body, Page, partial, patched
from chalicelib.api.requests import page
from chalicelib.api.routing import api_route
from chalicelib.domain import catalog
from chalicelib.services import registry
from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
ServicePatch = partial(NewService)


@api_route(bp, "/v1/admin/services", "POST", auth="admin", status=201, body=NewService, response=Service)
def create_service(caller: Caller, body: NewService) -> Service:
    """Create a service (currency defaults to the tenant's)"""
    catalog_service = registry.catalog_service()
    service = body.to_domain(catalog_service.new_service_id(), caller.tenant.currency, registry.clock())
    return Service.of(catalog_service.create_service(caller.tenant, service))


@api_route(bp, "/v1/admin/services", "GET", auth="admin", query=Page, response=ServicePage)
def list_services(caller: Caller, query: Page) -> ServicePage:
    """List services"""
    return ServicePage.of(page(query, registry.catalog_service().list_services(caller.tenant_id), lambda s: s.id))


@api_route(bp, "/v1/admin/services/{service_id}", "GET", auth="admin", response=Service)
def get_service(caller: Caller, service_id: str) -> Service:
    """Read a service"""
    return Service.of(registry.catalog_service().get_service(caller.tenant_id, service_id))


@api_route(
    bp, "/v1/admin/services/{service_id}", "PATCH", auth="admin", body=ServicePatch, response=Service, errors=(409,)
)
def patch_service(caller: Caller, service_id: str, body: Body) -> Service:
    """Change some fields of a service; the whole is checked again"""

    def edit(current: catalog.Service) -> catalog.Service:
        changed = patched(NewService, Service.of(current), body)
        return changed.to_domain(current.id, current.currency, registry.clock(), current.created_at, current.version)

    return Service.of(registry.catalog_service().update_service(caller.tenant_id, service_id, edit))


@api_route(bp, "/v1/admin/services/{service_id}", "DELETE", auth="admin", status=204)
def delete_service(caller: Caller, service_id: str) -> None:
    """Delete a service"""
    registry.catalog_service().delete_service(caller.tenant_id, service_id)
