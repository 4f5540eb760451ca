"""A tenant admin's own settings and keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import auth, model_types, registry, tenant_models
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/tenant", "GET", auth="admin")
def get_tenant(caller: Caller) -> tenant_models.TenantBody:
    """Read the settings"""
    return tenant_models.TenantBody.of(caller.tenant)


@api_route(bp, "/v1/admin/tenant", "PATCH", auth="admin", body="tenant_models.TenantSettingsPatch", errors=(409,))
def patch_tenant(caller: Caller, body: model_types.Body) -> tenant_models.TenantBody:
    """Change some settings (the slug cannot change); the whole is checked again"""
    settings = model_types.patched(tenant_models.TenantSettings, tenant_models.TenantBody.of(caller.tenant), body)
    return tenant_models.TenantBody.of(
        registry.tenant_service().save_settings(settings.apply_to(caller.tenant, registry.clock()))
    )


@api_route(bp, "/v1/admin/keys/rotate", "POST", auth="admin", status=201)
def rotate_secret_key(caller: Caller) -> tenant_models.RotatedKey:
    """Issue a new secret key and revoke the one used for this call"""
    presented = auth.bearer_token(bp.current_request.headers.get("authorization")) or ""
    return tenant_models.RotatedKey.of(
        dict(secret_key=registry.tenant_service().rotate_secret_key(caller.tenant_id, presented))
    )
