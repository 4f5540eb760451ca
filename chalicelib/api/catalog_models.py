"""Services, providers, weekly rules and date overrides as the API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

import pydantic
from pydantic import Field, WrapValidator, model_validator

from chalicelib.api.model_types import (
    Body,
    Cents,
    Currency,
    Day,
    Email,
    Id,
    Instant,
    Label,
    Loc,
    Name,
    Paged,
    PlainText,
    Timezone,
    Unique,
    WallEnd,
    WallStart,
    partial,
    problems,
)
from chalicelib.domain import catalog
from chalicelib.domain.catalog import IntakeFieldType
from chalicelib.domain.locks import MAX_OCCUPIED_MINUTES, QUANTUM_MINUTES
from chalicelib.domain.validation import overlapping_pairs, policy_problem, range_problem, rule_overlaps

Minutes = Annotated[int, Field(ge=0, le=1440, multiple_of=QUANTUM_MINUTES, description="a multiple of 5")]
Duration = Annotated[
    int, Field(ge=QUANTUM_MINUTES, le=1440, multiple_of=QUANTUM_MINUTES, description="a multiple of 5")
]
Ids = Annotated[list[Id], Field(max_length=200)]
PrepaymentRule = Annotated[
    catalog.Prepayment,
    Field(
        strict=False,
        description="what a client must pay when booking (none, the deposit, or the full price); "
        "a booking may pay more, never less (422 payment_required)",
    ),
]


class PolicyTier(Body):
    min_hours_before: int = Field(ge=0, le=24 * 365, description="hours before the start, at least")
    refund_percent: int = Field(ge=0, le=100, description="share of what was paid that is refunded")


class CancellationPolicy(Body):
    """Cancelling at least `minHoursBefore` the start refunds `refundPercent` (first tier that applies)."""

    tiers: list[PolicyTier] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _tiers_are_ordered(self) -> Self:
        problem = policy_problem([catalog.PolicyTier(t.min_hours_before, t.refund_percent) for t in self.tiers])
        if problem:
            raise problems({("tiers",): problem})
        return self

    def to_domain(self) -> catalog.CancellationPolicy:
        return catalog.CancellationPolicy(
            tuple(catalog.PolicyTier(t.min_hours_before, t.refund_percent) for t in self.tiers)
        )


class IntakeField(Body):
    id: Id
    label: Label
    type: IntakeFieldType = Field(strict=False)
    required: bool = False
    options: Annotated[list[Label], Unique] = Field(default_factory=list, max_length=100, description="select only")

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> Self:
        found: dict[tuple[str | int, ...], str] = {}
        if self.type is IntakeFieldType.SELECT and not self.options:
            found[("options",)] = "a select field needs at least one option"
        if self.type is not IntakeFieldType.SELECT and self.options:
            found[("options",)] = "only select fields take options"
        if found:
            raise problems(found)
        return self


def _unique_ids(value: Any, handler: Any) -> Any:
    """Repeated field ids are reported even when another field of the list is invalid too."""
    seen: set[Any] = set()
    repeated: dict[Loc, str] = {}
    for i, item in enumerate(value if isinstance(value, list) else []):
        field_id = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
        if not isinstance(field_id, str):  # a malformed id is reported by the item's own validation
            continue
        if field_id in seen:
            repeated[(i, "id")] = "must be unique within the service"
        seen.add(field_id)
    if not repeated:
        return handler(value)
    try:
        handler(value)
    except pydantic.ValidationError as exc:
        raise problems(repeated, also=exc) from exc
    raise problems(repeated)


class ServiceFields(Body):
    name: Name
    description: Annotated[str, Field(max_length=2000), PlainText] = ""
    duration_minutes: Duration
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    slot_interval_minutes: Minutes | None = Field(None, description="null: the tenant's slotIntervalMinutes")
    price_cents: Cents = 0
    deposit_cents: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    deposit_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    capacity: int = Field(1, ge=1, le=1000, description="1 = one-to-one, more = a group class")
    no_show_fee_cents: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    intake_fields: Annotated[list[IntakeField], Field(max_length=50), WrapValidator(_unique_ids)] = []
    cancellation_policy: CancellationPolicy | None = Field(None, description="null: the tenant's default")


class NewService(ServiceFields):
    """A service as an admin writes it (`currency` defaults to the tenant's)."""

    currency: Currency | None = None
    active: bool = True
    prepayment: PrepaymentRule | None = Field(None, description="null: deposit when the service has one, else none")

    @model_validator(mode="after")
    def _money_and_time_add_up(self) -> Self:
        found: dict[tuple[str | int, ...], str] = {}
        occupied = self.duration_minutes + self.buffer_before_minutes + self.buffer_after_minutes
        if occupied > MAX_OCCUPIED_MINUTES:
            found[("durationMinutes",)] = f"with its buffers must be at most {MAX_OCCUPIED_MINUTES} minutes"
        if self.deposit_cents is not None and self.deposit_percent is not None:
            found[("depositCents",)] = "give depositCents or depositPercent, not both"
        elif self.deposit_cents is not None and self.deposit_cents > self.price_cents:
            found[("depositCents",)] = "must not exceed priceCents"
        if (
            self.prepayment is catalog.Prepayment.DEPOSIT
            and self.deposit_cents is None
            and self.deposit_percent is None
        ):
            found[("prepayment",)] = "deposit needs depositCents or depositPercent (or choose none or full)"
        if found:
            raise problems(found)
        return self

    def to_domain(
        self, service_id: str, currency: str, now: datetime, created_at: datetime | None = None, version: int = 0
    ) -> catalog.Service:
        fields = self.model_dump(exclude={"intake_fields", "cancellation_policy", "currency", "prepayment"})
        return catalog.Service(
            id=service_id,
            **fields,
            currency=self.currency or currency,
            prepayment=self.prepayment or catalog.default_prepayment(self.deposit_cents, self.deposit_percent),
            intake_fields=tuple(
                catalog.IntakeField(f.id, f.label, f.type, f.required, tuple(f.options)) for f in self.intake_fields
            ),
            cancellation_policy=self.cancellation_policy.to_domain() if self.cancellation_policy else None,
            created_at=created_at or now,
            updated_at=now,
            version=version,
        )


class ShownService(ServiceFields):
    """A service as it is read: the prepayment in force, its default resolved."""

    prepayment: PrepaymentRule


class Service(ShownService):
    id: Id
    currency: Currency
    active: bool
    created_at: Instant
    updated_at: Instant
    version: int


class PublicService(ShownService):
    """What a client sees: no internal timestamps, versions or the active flag."""

    id: Id
    currency: Currency
    provider_ids: Ids


class NewProvider(Body):
    name: Name
    email: Email
    timezone: Timezone | None = Field(None, description="null: the tenant's timezone")
    service_ids: Annotated[Ids, Unique] = []
    active: bool = True

    def to_domain(
        self, provider_id: str, now: datetime, created_at: datetime | None = None, version: int = 0
    ) -> catalog.Provider:
        return catalog.Provider(
            id=provider_id,
            **self.model_dump(exclude={"service_ids"}),
            service_ids=tuple(self.service_ids),
            created_at=created_at or now,
            updated_at=now,
            version=version,
        )


class Provider(NewProvider):
    id: Id
    created_at: Instant
    updated_at: Instant
    version: int


class TimeRange(Body):
    """`HH:MM` wall-clock times in the provider's timezone, on 5-minute boundaries; `end` may be 24:00."""

    start: WallStart
    end: WallEnd

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        problem = range_problem(catalog.TimeRange(self.start, self.end))
        if problem:
            raise problems({("end",): problem})
        return self


class Rule(TimeRange):
    day_of_week: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday (ISO order)")
    service_ids: Annotated[Ids, Field(min_length=1)] | None = Field(None, description="null: every service")


class WeeklyRules(Body):
    """The provider's weekly hours; rules for services that can coincide must not overlap on a day."""

    rules: list[Rule] = Field(max_length=100)

    @model_validator(mode="after")
    def _no_overlaps(self) -> Self:
        overlaps = rule_overlaps(self.to_domain())
        if overlaps:
            raise problems({("rules", j): f"overlaps rules[{i}] on the same day" for i, j in overlaps})
        return self

    def to_domain(self) -> tuple[catalog.AvailabilityRule, ...]:
        return tuple(
            catalog.AvailabilityRule(
                r.day_of_week, r.start, r.end, tuple(r.service_ids) if r.service_ids is not None else None
            )
            for r in self.rules
        )

    def sorted_domain(self) -> tuple[catalog.AvailabilityRule, ...]:
        return tuple(sorted(self.to_domain(), key=lambda rule: (rule.day_of_week, rule.start)))


class NewOverride(Body):
    """Replaces the weekly rules on one local date; empty `intervals` is a day off."""

    date: Day
    intervals: list[TimeRange] = Field(max_length=48)

    @model_validator(mode="after")
    def _no_overlaps(self) -> Self:
        pairs = overlapping_pairs([catalog.TimeRange(t.start, t.end) for t in self.intervals])
        if pairs:
            raise problems({("intervals", j): f"overlaps intervals[{i}]" for i, j in pairs})
        return self

    def to_domain(self, override_id: str, provider_id: str) -> catalog.DateOverride:
        ranges = sorted((catalog.TimeRange(t.start, t.end) for t in self.intervals), key=lambda t: t.start)
        return catalog.DateOverride(id=override_id, provider_id=provider_id, date=self.date, intervals=tuple(ranges))


class DateOverride(NewOverride):
    id: Id
    provider_id: Id


ServicePatch = partial(NewService)
ProviderPatch = partial(NewProvider)

ServicePage = Paged[Service]
PublicServicePage = Paged[PublicService]
ProviderPage = Paged[Provider]
DateOverridePage = Paged[DateOverride]
