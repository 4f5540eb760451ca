"""What a tenant sells and who delivers it: services, providers, weekly rules, date overrides."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class IntakeFieldType(enum.Enum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"
    DATE = "date"
    PHONE = "phone"
    EMAIL = "email"
    NUMBER = "number"


class Prepayment(enum.Enum):
    """What a client must pay when booking, before the appointment is confirmed (in rising order)."""

    NONE = "none"
    DEPOSIT = "deposit"
    FULL = "full"

    @property
    def rank(self) -> int:
        return _PREPAYMENT_ORDER.index(self)


_PREPAYMENT_ORDER = (Prepayment.NONE, Prepayment.DEPOSIT, Prepayment.FULL)


def default_prepayment(deposit_cents: int | None, deposit_percent: int | None) -> Prepayment:
    """API.md: `deposit` when the service has a deposit, else `none`."""
    return Prepayment.NONE if deposit_cents is None and deposit_percent is None else Prepayment.DEPOSIT


@dataclass(frozen=True)
class IntakeField:
    id: str
    label: str
    type: IntakeFieldType
    required: bool
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyTier:
    """Cancelling at least `min_hours_before` the start refunds `refund_percent` of what was paid."""

    min_hours_before: int
    refund_percent: int


@dataclass(frozen=True)
class CancellationPolicy:
    tiers: tuple[PolicyTier, ...]  # strictly decreasing min_hours_before


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int | None
    price_cents: int
    currency: str
    deposit_cents: int | None
    deposit_percent: int | None
    capacity: int
    active: bool
    intake_fields: tuple[IntakeField, ...]
    cancellation_policy: CancellationPolicy | None
    prepayment: Prepayment
    created_at: datetime
    updated_at: datetime
    version: int = 0
    no_show_fee_cents: int | None = None  # charged to the saved card when marked a no-show

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    @property
    def deposit_amount(self) -> int | None:
        """The deposit in minor units (a percentage of the price rounded down), None without one."""
        if self.deposit_cents is not None:
            return self.deposit_cents
        if self.deposit_percent is not None:
            return self.price_cents * self.deposit_percent // 100
        return None


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    email: str
    timezone: str | None  # None: the tenant's zone applies
    service_ids: tuple[str, ...]
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def offers(self, service_id: str) -> bool:
        return self.active and service_id in self.service_ids


@dataclass(frozen=True)
class AvailabilityRule:
    day_of_week: int  # 0 = Monday ... 6 = Sunday (ISO order)
    start: str  # "HH:MM"
    end: str  # "HH:MM", may be "24:00"
    service_ids: tuple[str, ...] | None = None  # None: every service


@dataclass(frozen=True)
class WeeklyAvailability:
    provider_id: str
    rules: tuple[AvailabilityRule, ...] = ()
    version: int = 0


@dataclass(frozen=True)
class TimeRange:
    start: str  # "HH:MM"
    end: str  # "HH:MM", may be "24:00"


@dataclass(frozen=True)
class DateOverride:
    """Replaces the weekly rules on one local date; no intervals means a day off."""

    id: str
    provider_id: str
    date: date
    intervals: tuple[TimeRange, ...] = field(default_factory=tuple)
