"""A tenant (one business) and its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.catalog import CancellationPolicy

TENANT_ID_PREFIX = "tn"
DEFAULT_SLOT_INTERVAL_MINUTES = 15
DEFAULT_REMINDER_OFFSETS_MINUTES = (1440, 60)
DEFAULT_MAX_ADVANCE_DAYS = 90


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    slug: str
    timezone: str
    currency: str
    email: str
    created_at: datetime
    updated_at: datetime
    branding: dict[str, Any] = field(default_factory=dict)
    slot_interval_minutes: int = DEFAULT_SLOT_INTERVAL_MINUTES
    min_notice_minutes: int = 0
    max_advance_days: int = DEFAULT_MAX_ADVANCE_DAYS
    reminder_offsets_minutes: tuple[int, ...] = DEFAULT_REMINDER_OFFSETS_MINUTES
    default_cancellation_policy: CancellationPolicy | None = None
    tax_rate_bps: int = 0
    sms_enabled: bool = False  # reminders also go by SMS to clients who gave a phone number
    stripe_account_id: str | None = None  # the tenant's Stripe connected account
    version: int = 0


@dataclass(frozen=True)
class ApiKeyRecord:
    """What is stored about an API key: never the key itself."""

    tenant_id: str
    key_id: str
    kind: str  # "sk" | "pk"
    hash: str
    created_at: datetime


@dataclass(frozen=True)
class NewTenant:
    """What the platform operator supplies to open a tenant."""

    name: str
    slug: str
    timezone: str
    currency: str
    email: str
