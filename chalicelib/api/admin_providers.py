"""Admin CRUD of providers, their weekly rules and their date overrides."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.catalog_schema import (
    merge_patch,
    override_json,
    parse_override,
    parse_provider,
    parse_rules,
    provider_json,
    rules_json,
)
from chalicelib.api.requests import admin_caller, json_body, page
from chalicelib.api.routing import api_route
from chalicelib.domain.catalog import Provider, WeeklyAvailability
from chalicelib.domain.ids import new_id
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/providers", "POST", status=201)
def create_provider() -> dict[str, Any]:
    caller = admin_caller(bp)
    catalog = registry.catalog_service()
    provider = parse_provider(json_body(bp), provider_id=catalog.new_provider_id(), now=registry.clock())
    return provider_json(catalog.create_provider(caller.tenant_id, provider))


@api_route(bp, "/v1/admin/providers", "GET")
def list_providers() -> dict[str, Any]:
    caller = admin_caller(bp)
    return page(bp, registry.catalog_service().list_providers(caller.tenant_id), lambda p: p.id, provider_json)


@api_route(bp, "/v1/admin/providers/{provider_id}", "GET")
def get_provider(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    return provider_json(registry.catalog_service().get_provider(caller.tenant_id, provider_id))


@api_route(bp, "/v1/admin/providers/{provider_id}", "PATCH")
def patch_provider(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    patch = json_body(bp)

    def edit(current: Provider) -> Provider:
        return parse_provider(
            merge_patch(provider_json(current), patch),
            provider_id=current.id,
            now=registry.clock(),
            created_at=current.created_at,
            version=current.version,
        )

    return provider_json(registry.catalog_service().update_provider(caller.tenant_id, provider_id, edit))


@api_route(bp, "/v1/admin/providers/{provider_id}", "DELETE")
def delete_provider(provider_id: str) -> None:
    caller = admin_caller(bp)
    registry.catalog_service().delete_provider(caller.tenant_id, provider_id)


@api_route(bp, "/v1/admin/providers/{provider_id}/availability", "PUT")
def put_availability(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    rules = parse_rules(json_body(bp))
    saved = registry.catalog_service().replace_rules(caller.tenant_id, WeeklyAvailability(provider_id, rules))
    return rules_json(saved.rules)


@api_route(bp, "/v1/admin/providers/{provider_id}/availability", "GET")
def get_availability(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    return rules_json(registry.catalog_service().get_rules(caller.tenant_id, provider_id).rules)


@api_route(bp, "/v1/admin/providers/{provider_id}/overrides", "POST", status=201)
def add_override(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    override = parse_override(json_body(bp), override_id=new_id("ovr_"), provider_id=provider_id)
    return override_json(registry.catalog_service().add_override(caller.tenant_id, override))


@api_route(bp, "/v1/admin/providers/{provider_id}/overrides", "GET")
def list_overrides(provider_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    overrides = registry.catalog_service().list_overrides(caller.tenant_id, provider_id)
    return page(bp, overrides, lambda o: f"{o.date.isoformat()}#{o.id}", override_json)


@api_route(bp, "/v1/admin/providers/{provider_id}/overrides/{override_id}", "DELETE")
def delete_override(provider_id: str, override_id: str) -> None:
    caller = admin_caller(bp)
    registry.catalog_service().delete_override(caller.tenant_id, provider_id, override_id)
