"""The tenant's audit trail: every change to appointments, catalog, keys and settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.clock_params import instant_or_date
from chalicelib.api.requests import admin_caller, page_limit, query
from chalicelib.api.routing import api_route
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.errors import ValidationError
from chalicelib.services import registry

bp = Blueprint(__name__)
DEFAULT_DAYS = 30
MAX_DAYS = 400


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "entityType": entry.entity_type,
        "entityId": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
    }


@api_route(bp, "/v1/admin/audit", "GET")
def list_audit() -> dict[str, Any]:
    caller = admin_caller(bp)
    zone = ZoneInfo(caller.tenant.timezone)
    now = registry.clock()
    end = instant_or_date(query(bp, "to"), "to", zone, end_of_day=True) or now + timedelta(seconds=1)
    start = instant_or_date(query(bp, "from"), "from", zone) or datetime.combine(
        (end - timedelta(days=DEFAULT_DAYS)).date(), time(0), zone
    )
    if end <= start or end - start > timedelta(days=MAX_DAYS):
        raise ValidationError("to must be after from, at most 400 days later.", {"fields": {"to": "out of range"}})
    entries, cursor = registry.audit_repository().page(
        caller.tenant_id, start, end, query(bp, "entityId"), page_limit(bp), query(bp, "cursor")
    )
    return {"items": [entry_json(e) for e in entries], "nextCursor": cursor}
