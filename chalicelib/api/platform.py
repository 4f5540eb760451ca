"""Platform operator routes (`Authorization: Bearer <PLATFORM_API_KEY>`)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.lazy import registry, tenant_models
from chalicelib.api.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/v1/platform/tenants", "POST", auth="platform", status=201, errors=(409,))
def create_tenant(body: tenant_models.NewTenantBody) -> tenant_models.OpenedTenant:
    """Open a tenant; its keys are shown only in this answer (409 on a taken slug)"""
    return tenant_models.OpenedTenant.of(registry.tenant_service().open_tenant(body.to_domain()))
