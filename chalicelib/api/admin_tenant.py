"""A tenant admin's own settings and keys."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.model_types import Body, partial, patched
from chalicelib.api.routing import api_route
from chalicelib.api.tenant_models import RotatedKey, TenantBody, TenantSettings
from chalicelib.services import registry
from chalicelib.services.auth import Caller, bearer_token

bp = Blueprint(__name__)
SettingsPatch = partial(TenantSettings)


@api_route(bp, "/v1/admin/tenant", "GET", auth="admin", response=TenantBody)
def get_tenant(caller: Caller) -> TenantBody:
    """Read the settings"""
    return TenantBody.of(caller.tenant)


@api_route(bp, "/v1/admin/tenant", "PATCH", auth="admin", body=SettingsPatch, response=TenantBody, errors=(409,))
def patch_tenant(caller: Caller, body: Body) -> TenantBody:
    """Change some settings (the slug cannot change); the whole is checked again"""
    settings = patched(TenantSettings, TenantBody.of(caller.tenant), body)
    return TenantBody.of(registry.tenant_service().save_settings(settings.apply_to(caller.tenant, registry.clock())))


@api_route(bp, "/v1/admin/keys/rotate", "POST", auth="admin", status=201, response=RotatedKey)
def rotate_secret_key(caller: Caller) -> RotatedKey:
    """Issue a new secret key and revoke the one used for this call"""
    presented = bearer_token(bp.current_request.headers.get("authorization")) or ""
    return RotatedKey.of(dict(secret_key=registry.tenant_service().rotate_secret_key(caller.tenant_id, presented)))
