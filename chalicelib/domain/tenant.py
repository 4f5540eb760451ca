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
DEFAULT_INVOICE_PREFIX = "INV"
DEFAULT_CREDIT_NOTE_PREFIX = "CN"
PAPER_SIZES = ("A4", "Letter")


@dataclass(frozen=True)
class Address:
    """A postal address as an invoice prints it (country: ISO 3166-1 alpha-2)."""

    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""

    def lines(self) -> list[str]:
        """The address as printed lines, empty parts left out."""
        place = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.line1, self.line2, place, self.region, self.country) if line]

    @property
    def is_complete(self) -> bool:
        return bool(self.line1 and self.city and self.country)


@dataclass(frozen=True)
class InvoiceSettings:
    """What a tenant's invoices say about the seller, and how they are numbered and printed."""

    legal_name: str = ""
    address: Address = field(default_factory=Address)
    tax_id: str = ""
    invoice_prefix: str = DEFAULT_INVOICE_PREFIX
    credit_note_prefix: str = DEFAULT_CREDIT_NOTE_PREFIX
    prices_include_tax: bool = True
    paper_size: str = "A4"


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
    # invoice settings (the seller on every invoice, numbering and paper)
    legal_name: str = ""
    address: Address = field(default_factory=Address)
    tax_id: str = ""
    invoice_prefix: str = DEFAULT_INVOICE_PREFIX
    credit_note_prefix: str = DEFAULT_CREDIT_NOTE_PREFIX
    prices_include_tax: bool = True
    paper_size: str = "A4"
    sms_enabled: bool = False  # reminders also go by SMS to clients who gave a phone number
    stripe_account_id: str | None = None  # the tenant's Stripe connected account
    allowed_origins: tuple[str, ...] = ()  # sites that may frame /embed and call the public API (CORS)
    # waitlist (issue 13): how long an offer holds a freed time, offer mails per hour, score weights
    waitlist_offer_minutes: int = 15
    waitlist_offers_per_hour: int = 25
    waitlist_weights: dict[str, float] = field(default_factory=dict)
    version: int = 0

    @property
    def invoicing(self) -> InvoiceSettings:
        return InvoiceSettings(
            legal_name=self.legal_name,
            address=self.address,
            tax_id=self.tax_id,
            invoice_prefix=self.invoice_prefix,
            credit_note_prefix=self.credit_note_prefix,
            prices_include_tax=self.prices_include_tax,
            paper_size=self.paper_size,
        )


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
