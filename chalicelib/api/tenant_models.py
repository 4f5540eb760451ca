"""Tenants and their settings as the API reads and writes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.api.catalog_models import CancellationPolicy
from chalicelib.api.model_types import (
    Body,
    Currency,
    Email,
    Id,
    Instant,
    Name,
    PlainText,
    Timezone,
    Unique,
    omitted,
    partial,
)
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.origins import MAX_ALLOWED_ORIGINS, OriginError, normalise_origin
from chalicelib.domain.tenant import (
    DEFAULT_CREDIT_NOTE_PREFIX,
    DEFAULT_INVOICE_PREFIX,
    DEFAULT_MAX_ADVANCE_DAYS,
    DEFAULT_REMINDER_OFFSETS_MINUTES,
    DEFAULT_SLOT_INTERVAL_MINUTES,
    Address,
    NewTenant,
    Tenant,
)
from chalicelib.domain.validation import is_slug

Color = Annotated[str, Field(pattern="^#[0-9a-fA-F]{6}$", examples=["#1a2b3c"])]


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError("must be 3-50 characters of a-z, 0-9 and inner hyphens")
    return value


Slug = Annotated[str, Field(min_length=3, max_length=50, examples=["acme"]), AfterValidator(_slug)]


def _origin(value: str) -> str:
    try:
        return normalise_origin(value)
    except OriginError as exc:
        raise ValueError(str(exc)) from exc


Origin = Annotated[
    str,
    Field(max_length=300, examples=["https://www.example.com"], description="scheme://host[:port], no path"),
    AfterValidator(_origin),
]


class NewTenantBody(Body):
    name: Name
    slug: Slug
    timezone: Timezone
    currency: Currency
    email: Email

    def to_domain(self) -> NewTenant:
        return NewTenant(**self.model_dump())


class Branding(Body):
    primary_color: Color | None = omitted()
    accent_color: Color | None = omitted()
    logo_url: Annotated[str, Field(max_length=500, pattern="^https://")] | None = omitted()


Line = Annotated[str, Field(max_length=120), PlainText]
Prefix = Annotated[str, Field(min_length=1, max_length=10, pattern="^[A-Za-z0-9]+$", examples=["INV"])]


class PostalAddress(Body):
    """The seller's address as invoices print it; `country` is ISO 3166-1 alpha-2."""

    line1: Line = ""
    line2: Line = ""
    city: Line = ""
    postal_code: Annotated[str, Field(max_length=20), PlainText] = ""
    region: Line = ""
    country: Annotated[str, Field(pattern="^([A-Z]{2})?$", examples=["DE"])] = ""

    def to_domain(self) -> Address:
        return Address(**self.model_dump())


Weight = Annotated[float, Field(ge=0, le=1000, strict=False)]


class WaitlistWeights(Body):
    """Points for each part of a waitlist score (each part is its weight times a factor in 0..1)."""

    vip: Weight = 100.0
    service_match: Weight = 20.0  # the entry wants the freed time's own service
    provider_preference: Weight = 30.0  # the entry asked for the freed time's provider
    window_fit: Weight = 10.0  # times the freed time's share of the entry's window
    time_waited: Weight = 30.0  # earned linearly over 30 days of waiting


class TenantSettings(Body):
    """Every setting PATCH /v1/admin/tenant accepts; GET returns each of them."""

    name: Name
    timezone: Timezone
    currency: Currency
    email: Email
    branding: Branding = Branding()
    slot_interval_minutes: int = Field(DEFAULT_SLOT_INTERVAL_MINUTES, ge=1, le=1440)
    min_notice_minutes: int = Field(0, ge=0, le=60 * 24 * 365, description="earliest start from now")
    max_advance_days: int = Field(DEFAULT_MAX_ADVANCE_DAYS, ge=1, le=730, description="latest start date from today")
    reminder_offsets_minutes: Annotated[list[Annotated[int, Field(ge=1, le=60 * 24 * 30)]], Unique] = Field(
        list(DEFAULT_REMINDER_OFFSETS_MINUTES), max_length=5, description="minutes before the start"
    )
    default_cancellation_policy: CancellationPolicy | None = None
    tax_rate_bps: int = Field(0, ge=0, le=10_000, description="basis points: 2000 = 20 %")
    sms_enabled: bool = False
    legal_name: Line = Field("", description="the seller on invoices (required to issue one)")
    address: PostalAddress = PostalAddress()
    tax_id: Annotated[str, Field(max_length=40), PlainText] = Field("", description="VAT id (required to issue one)")
    invoice_prefix: Prefix = DEFAULT_INVOICE_PREFIX
    credit_note_prefix: Prefix = DEFAULT_CREDIT_NOTE_PREFIX
    prices_include_tax: bool = Field(True, description="service prices include taxRateBps (else it is added)")
    paper_size: Literal["A4", "Letter"] = "A4"
    allowed_origins: Annotated[list[Origin], Unique] = Field(
        [],
        max_length=MAX_ALLOWED_ORIGINS,
        description="sites that may frame /embed/{slug} and call /v1/public/* from a browser (CORS); "
        "https only (http for localhost), stored as browsers send Origin",
    )
    waitlist_offer_minutes: int = Field(15, ge=1, le=1440, description="how long a waitlist offer holds a time")
    waitlist_offers_per_hour: int = Field(
        25, ge=1, le=10_000, description="offer mails per clock hour; more wait for the next hour"
    )
    waitlist_weights: WaitlistWeights = WaitlistWeights()
    slug: Slug | None = Field(None, description="set when the tenant opens; another value here is a 400")

    def apply_to(self, tenant: Tenant, now: datetime) -> Tenant:
        if self.slug not in (None, tenant.slug):
            raise ValidationError("The slug cannot be changed.", {"fields": {"slug": "cannot be changed here"}})
        policy = self.default_cancellation_policy
        return replace(
            tenant,
            **self.model_dump(include={"name", "timezone", "currency", "email", "slot_interval_minutes"}),
            **self.model_dump(include={"min_notice_minutes", "max_advance_days", "tax_rate_bps", "sms_enabled"}),
            branding=self.branding.model_dump(by_alias=True, exclude_none=True),
            reminder_offsets_minutes=tuple(sorted(self.reminder_offsets_minutes, reverse=True)),
            default_cancellation_policy=policy.to_domain() if policy else None,
            **self.model_dump(include={"legal_name", "tax_id", "invoice_prefix", "credit_note_prefix"}),
            **self.model_dump(include={"prices_include_tax", "paper_size"}),
            allowed_origins=tuple(self.allowed_origins),
            address=self.address.to_domain(),
            **self.model_dump(include={"waitlist_offer_minutes", "waitlist_offers_per_hour"}),
            waitlist_weights=self.waitlist_weights.model_dump(exclude_defaults=True),  # only what was changed
            updated_at=now,
        )


class TenantBody(TenantSettings):
    id: Id
    slug: Slug
    created_at: Instant
    updated_at: Instant
    version: int


class OpenedTenant(Body):
    tenant: TenantBody
    publishable_key: str = Field(description="pk_...: the X-Tenant-Key of public calls")
    secret_key: str = Field(description="sk_...: shown only here")


class RotatedKey(Body):
    secret_key: str = Field(description="the new sk_... key; the one used for this call stops working")


TenantSettingsPatch = partial(TenantSettings)
