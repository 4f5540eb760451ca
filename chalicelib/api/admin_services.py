"""Admin CRUD of services."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.catalog_schema import merge_patch, parse_service, service_json
from chalicelib.api.requests import admin_caller, json_body, page
from chalicelib.api.routing import api_route
from chalicelib.domain.catalog import Service
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/services", "POST", status=201)
def create_service() -> dict[str, Any]:
    caller = admin_caller(bp)
    catalog = registry.catalog_service()
    service = parse_service(
        json_body(bp), service_id=catalog.new_service_id(), default_currency="", now=registry.clock()
    )
    return service_json(catalog.create_service(caller.tenant, service))


@api_route(bp, "/v1/admin/services", "GET")
def list_services() -> dict[str, Any]:
    caller = admin_caller(bp)
    return page(bp, registry.catalog_service().list_services(caller.tenant_id), lambda s: s.id, service_json)


@api_route(bp, "/v1/admin/services/{service_id}", "GET")
def get_service(service_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    return service_json(registry.catalog_service().get_service(caller.tenant_id, service_id))


@api_route(bp, "/v1/admin/services/{service_id}", "PATCH")
def patch_service(service_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    patch = json_body(bp)

    def edit(current: Service) -> Service:
        return parse_service(
            merge_patch(service_json(current), patch),
            service_id=current.id,
            default_currency=caller.tenant.currency,
            now=registry.clock(),
            created_at=current.created_at,
            version=current.version,
        )

    return service_json(registry.catalog_service().update_service(caller.tenant_id, service_id, edit))


@api_route(bp, "/v1/admin/services/{service_id}", "DELETE")
def delete_service(service_id: str) -> None:
    caller = admin_caller(bp)
    registry.catalog_service().delete_service(caller.tenant_id, service_id)
