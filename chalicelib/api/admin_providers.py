"""Admin CRUD of providers, their weekly rules and their date overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import catalog, catalog_models, model_types, registry
from chalicelib.api.requests import page
from chalicelib.api.routing import api_route
from chalicelib.domain.ids import new_id

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
PROVIDER = "/v1/admin/providers/{provider_id}"


@api_route(bp, "/v1/admin/providers", "POST", auth="admin", status=201, errors=(422,))
def create_provider(caller: Caller, body: catalog_models.NewProvider) -> catalog_models.Provider:
    """Create a provider (422 when a service id is unknown)"""
    catalog_service = registry.catalog_service()
    provider = body.to_domain(catalog_service.new_provider_id(), registry.clock())
    return catalog_models.Provider.of(catalog_service.create_provider(caller.tenant_id, provider))


@api_route(bp, "/v1/admin/providers", "GET", auth="admin")
def list_providers(caller: Caller, query: model_types.Page) -> catalog_models.ProviderPage:
    """List providers"""
    return catalog_models.ProviderPage.of(
        page(query, registry.catalog_service().list_providers(caller.tenant_id), lambda p: p.id)
    )


@api_route(bp, PROVIDER, "GET", auth="admin")
def get_provider(caller: Caller, provider_id: str) -> catalog_models.Provider:
    """Read a provider"""
    return catalog_models.Provider.of(registry.catalog_service().get_provider(caller.tenant_id, provider_id))


@api_route(bp, PROVIDER, "PATCH", auth="admin", body="catalog_models.ProviderPatch", errors=(409, 422))
def patch_provider(caller: Caller, provider_id: str, body: model_types.Body) -> catalog_models.Provider:
    """Change some fields of a provider; the whole is checked again"""

    def edit(current: catalog.Provider) -> catalog.Provider:
        changed = model_types.patched(catalog_models.NewProvider, catalog_models.Provider.of(current), body)
        return changed.to_domain(current.id, registry.clock(), current.created_at, current.version)

    return catalog_models.Provider.of(registry.catalog_service().update_provider(caller.tenant_id, provider_id, edit))


@api_route(bp, PROVIDER, "DELETE", auth="admin", status=204)
def delete_provider(caller: Caller, provider_id: str) -> None:
    """Delete a provider with its rules and overrides"""
    registry.catalog_service().delete_provider(caller.tenant_id, provider_id)


@api_route(bp, PROVIDER + "/availability", "PUT", auth="admin", errors=(422,))
def put_availability(caller: Caller, provider_id: str, body: catalog_models.WeeklyRules) -> catalog_models.WeeklyRules:
    """Replace the weekly rules (422 when a rule names an unknown service)"""
    availability = catalog.WeeklyAvailability(provider_id, body.sorted_domain())
    return catalog_models.WeeklyRules.of(registry.catalog_service().replace_rules(caller.tenant_id, availability))


@api_route(bp, PROVIDER + "/availability", "GET", auth="admin")
def get_availability(caller: Caller, provider_id: str) -> catalog_models.WeeklyRules:
    """Read the weekly rules"""
    return catalog_models.WeeklyRules.of(registry.catalog_service().get_rules(caller.tenant_id, provider_id))


@api_route(bp, PROVIDER + "/overrides", "POST", auth="admin", status=201)
def add_override(caller: Caller, provider_id: str, body: catalog_models.NewOverride) -> catalog_models.DateOverride:
    """Add a date override (replaces one on the same date)"""
    override = body.to_domain(new_id("ovr_"), provider_id)
    return catalog_models.DateOverride.of(registry.catalog_service().add_override(caller.tenant_id, override))


@api_route(bp, PROVIDER + "/overrides", "GET", auth="admin")
def list_overrides(caller: Caller, provider_id: str, query: model_types.Page) -> catalog_models.DateOverridePage:
    """List date overrides by date"""
    overrides = registry.catalog_service().list_overrides(caller.tenant_id, provider_id)
    return catalog_models.DateOverridePage.of(page(query, overrides, lambda o: f"{o.date.isoformat()}#{o.id}"))


@api_route(bp, PROVIDER + "/overrides/{override_id}", "DELETE", auth="admin", status=204)
def delete_override(caller: Caller, provider_id: str, override_id: str) -> None:
    """Delete a date override"""
    registry.catalog_service().delete_override(caller.tenant_id, provider_id, override_id)
