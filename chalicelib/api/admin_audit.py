"""The tenant's audit trail: every change to appointments, catalog, keys and settings."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.lazy import audit_models, registry
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/audit", "GET", auth="admin")
def list_audit(caller: Caller, query: audit_models.AuditQuery) -> audit_models.AuditPage:
    """The audit trail in the order things changed, filtered by entity"""
    start, end = query.window(ZoneInfo(caller.tenant.timezone), registry.clock())
    entries, cursor = registry.audit_repository().page(
        caller.tenant_id, start, end, query.entity_id, query.limit, query.cursor
    )
    return audit_models.AuditPage.of({"items": entries, "next_cursor": cursor})
