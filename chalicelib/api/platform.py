"""Platform operator routes (`Authorization: Bearer <PLATFORM_API_KEY>`)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import api_route
from chalicelib.api.tenant_models import NewTenantBody, OpenedTenant
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(
    bp,
    "/v1/platform/tenants",
    "POST",
    auth="platform",
    status=201,
    body=NewTenantBody,
    response=OpenedTenant,
    errors=(409,),
)
def create_tenant(body: NewTenantBody) -> OpenedTenant:
    """Open a tenant; its keys are shown only in this answer (409 on a taken slug)"""
    return OpenedTenant.of(registry.tenant_service().open_tenant(body.to_domain()))
