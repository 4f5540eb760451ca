"""Invoices and credit notes as the API reads them (API.md "Invoices (admin)")."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from chalicelib.api.appointment_models import WindowQuery, instant_or_date
from chalicelib.api.model_types import Body, Currency, Day, Instant, Paged
from chalicelib.api.tenant_models import PostalAddress
from chalicelib.domain.invoices import InvoiceKind, InvoiceStatus


class NewInvoice(Body):
    """No fields: the invoice is built from the appointment, its ledger and the tenant's settings."""


class Seller(Body):
    legal_name: str
    address: PostalAddress
    tax_id: str


class Buyer(Body):
    name: str
    email: str


class InvoiceLine(Body):
    description: str
    quantity: int
    unit_amount_cents: int = Field(description="minor units; negative on a credit note")
    amount_cents: int = Field(description="quantity x unitAmountCents; the lines add up to subtotalCents")
    tax_rate_bps: int
    tax_cents: int


class InvoicePayment(Body):
    description: str = Field(description='"Deposit paid", "Balance paid", "Paid" or "Refunded"')
    amount_cents: int
    paid_at: Instant


class Invoice(Body):
    id: str
    kind: InvoiceKind
    number: str = Field(examples=["INV-2027-0001"])
    status: InvoiceStatus
    appointment_id: str
    refers_to: str | None = Field(description="the invoice a credit note corrects; null on an invoice")
    issued_at: Instant
    supplied_on: Day = Field(description="the date of the service, in the tenant's zone")
    currency: Currency
    seller: Seller
    buyer: Buyer
    lines: list[InvoiceLine]
    payments: list[InvoicePayment] = Field(description="what was paid towards it (deposit, balance)")
    prices_include_tax: bool
    subtotal_cents: int
    tax_cents: int
    total_cents: int = Field(description="negative on a credit note: minus the money refunded")
    amount_paid_cents: int
    amount_due_cents: int
    pdf_sha256: str | None = Field(description="SHA-256 (hex) of the stored PDF")


class InvoiceWithPdf(Invoice):
    pdf_url: str = Field(description="presigned GET of the PDF, no credentials needed, valid 15 minutes")


class InvoiceQuery(WindowQuery):
    kind: InvoiceKind | None = None

    def window(self, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
        """Default: the 31 days up to now; at most 400 days. Dates count in the tenant's zone."""
        end = instant_or_date(self.to, zone, end_of_day=True) or now + timedelta(seconds=1)
        start = instant_or_date(self.from_, zone) or datetime.combine((end - timedelta(days=31)).date(), time(0), zone)
        return self.checked(start, end, 400)


class InvoiceSent(Body):
    id: str
    number: str
    sent_to: str
    outcome: str = Field(description='"sent", or "rejected" when the mail service refused the address')


InvoicePage = Paged[Invoice]
