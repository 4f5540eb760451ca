"""JSON <-> domain for tenants and their settings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.api.catalog_schema import merge_patch, policy_json, read_policy
from chalicelib.api.parsing import FieldErrors, Reader
from chalicelib.domain.clock import to_iso
from chalicelib.domain.tenant import (
    DEFAULT_MAX_ADVANCE_DAYS,
    DEFAULT_REMINDER_OFFSETS_MINUTES,
    DEFAULT_SLOT_INTERVAL_MINUTES,
    NewTenant,
    Tenant,
)
from chalicelib.domain.validation import is_slug

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_BRANDING_COLORS = ("primaryColor", "accentColor")
MAX_REMINDER_OFFSET_MINUTES = 60 * 24 * 30
MAX_ADVANCE_DAYS_LIMIT = 730


def parse_new_tenant(body: dict[str, Any]) -> NewTenant:
    errors = FieldErrors()
    r = Reader(body, errors)
    name = r.string("name", max_length=120)
    slug = r.checked("slug", is_slug, "must be 3-50 characters of a-z, 0-9 and inner hyphens", max_length=50)
    timezone = r.timezone("timezone")
    currency = r.currency("currency")
    email = r.email("email")
    errors.raise_if_any()
    assert name and slug and timezone and currency and email
    return NewTenant(name=name, slug=slug, timezone=timezone, currency=currency, email=email)


def _read_branding(r: Reader) -> dict[str, Any]:
    branding = r.obj("branding", required=False)
    if branding is None:
        return {}
    unknown = set(branding.data) - {*_BRANDING_COLORS, "logoUrl"}
    for key in sorted(unknown):
        branding.errors.add(branding.at(key), "is not a branding field")
    result: dict[str, Any] = {}
    for key in _BRANDING_COLORS:
        color = branding.checked(key, lambda v: _COLOR.match(v) is not None, "must be a #RRGGBB colour", required=False)
        if color:
            result[key] = color
    logo = branding.checked(
        "logoUrl", lambda v: v.startswith("https://"), "must be an https:// URL", required=False, max_length=500
    )
    if logo:
        result["logoUrl"] = logo
    return result


def apply_settings(tenant: Tenant, patch: dict[str, Any], now: datetime) -> Tenant:
    """The tenant with a PATCH applied, every setting re-validated together."""
    body = merge_patch(tenant_json(tenant), patch)
    errors = FieldErrors()
    r = Reader(body, errors)
    if "slug" in patch and patch["slug"] != tenant.slug:
        errors.add("slug", "cannot be changed here")
    name = r.string("name", max_length=120)
    timezone = r.timezone("timezone")
    currency = r.currency("currency")
    email = r.email("email")
    branding = _read_branding(r)
    interval = r.integer(
        "slotIntervalMinutes", required=False, minimum=1, maximum=1440, default=DEFAULT_SLOT_INTERVAL_MINUTES
    )
    notice = r.integer("minNoticeMinutes", required=False, minimum=0, maximum=60 * 24 * 365, default=0)
    advance = r.integer(
        "maxAdvanceDays", required=False, minimum=1, maximum=MAX_ADVANCE_DAYS_LIMIT, default=DEFAULT_MAX_ADVANCE_DAYS
    )
    offsets = r.integers(
        "reminderOffsetsMinutes", required=False, minimum=1, maximum=MAX_REMINDER_OFFSET_MINUTES, max_items=5
    )
    policy = read_policy(r, "defaultCancellationPolicy")
    tax = r.integer("taxRateBps", required=False, minimum=0, maximum=10_000, default=0)
    sms = r.boolean("smsEnabled", required=False, default=False)
    if offsets is not None and len(set(offsets)) != len(offsets):
        errors.add("reminderOffsetsMinutes", "must not repeat an offset")
    errors.raise_if_any()
    assert name and timezone and currency and email
    return replace(
        tenant,
        name=name,
        timezone=timezone,
        currency=currency,
        email=email,
        branding=branding,
        slot_interval_minutes=interval or DEFAULT_SLOT_INTERVAL_MINUTES,
        min_notice_minutes=notice or 0,
        max_advance_days=advance or DEFAULT_MAX_ADVANCE_DAYS,
        reminder_offsets_minutes=(
            tuple(sorted(offsets, reverse=True)) if offsets is not None else DEFAULT_REMINDER_OFFSETS_MINUTES
        ),
        default_cancellation_policy=policy,
        tax_rate_bps=tax or 0,
        sms_enabled=bool(sms),
        updated_at=now,
    )


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "slug": tenant.slug,
        "timezone": tenant.timezone,
        "currency": tenant.currency,
        "email": tenant.email,
        "branding": dict(tenant.branding),
        "slotIntervalMinutes": tenant.slot_interval_minutes,
        "minNoticeMinutes": tenant.min_notice_minutes,
        "maxAdvanceDays": tenant.max_advance_days,
        "reminderOffsetsMinutes": list(tenant.reminder_offsets_minutes),
        "defaultCancellationPolicy": policy_json(tenant.default_cancellation_policy),
        "taxRateBps": tenant.tax_rate_bps,
        "smsEnabled": tenant.sms_enabled,
        "createdAt": to_iso(tenant.created_at),
        "updatedAt": to_iso(tenant.updated_at),
        "version": tenant.version,
    }
