"""Invoices and credit notes: their lines, tax, totals and the fields EU VAT law requires.

Pure functions over integer minor units. Tax (API.md): with prices including tax the total
is what the client pays and `tax = round(total * r / (1 + r))`; with prices excluding tax
`total = subtotal + round(subtotal * r)`. Rounding is half away from zero, so a credit note
is the exact mirror of an invoice of the same amount. Line taxes are the document's tax per
rate shared out over its lines by largest remainder, so they always add up to it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import InvoiceIncompleteError
from chalicelib.domain.tenant import Address, InvoiceSettings

BPS = 10_000


class InvoiceKind(enum.Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.Enum):
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


@dataclass(frozen=True)
class Seller:
    legal_name: str
    address: Address
    tax_id: str


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int
    unit_amount_cents: int
    amount_cents: int  # quantity x unit, in the document's currency; what the tax is computed on
    tax_rate_bps: int
    tax_cents: int


@dataclass(frozen=True)
class PaymentLine:
    """What was paid towards the invoice (a deposit, the balance), shown below the totals."""

    description: str
    amount_cents: int
    paid_at: datetime


@dataclass(frozen=True)
class Invoice:
    id: str
    tenant_id: str
    kind: InvoiceKind
    number: str
    status: InvoiceStatus
    appointment_id: str
    refers_to: str | None  # the invoice a credit note corrects
    issued_at: datetime
    supplied_on: date  # the date of the service (art. 226 (7)), in the tenant's zone
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    payments: tuple[PaymentLine, ...]
    prices_include_tax: bool
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    amount_paid_cents: int
    amount_due_cents: int
    pdf_sha256: str | None = None
    refers_to_number: str | None = None


@dataclass(frozen=True)
class Totals:
    lines: tuple[InvoiceLine, ...]
    subtotal_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: int
    unit_amount_cents: int
    tax_rate_bps: int


def round_half_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def tax_of(amount_cents: int, rate_bps: int, prices_include_tax: bool) -> int:
    """The tax in an amount (included) or on it (excluded)."""
    if prices_include_tax:
        return round_half_away(amount_cents * rate_bps, BPS + rate_bps)
    return round_half_away(amount_cents * rate_bps, BPS)


def _share(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights`, by largest remainder (the parts add up to it)."""
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1) if weights else []
    exact = [total * w for w in weights]
    parts = [e // whole if total >= 0 else -((-e) // whole) for e in exact]
    remainders = sorted(range(len(weights)), key=lambda i: -abs(exact[i] - parts[i] * whole))
    step = 1 if total >= 0 else -1
    for i in remainders[: abs(total - sum(parts))]:
        parts[i] += step
    return parts


def compute_totals(inputs: Iterable[LineInput], prices_include_tax: bool) -> Totals:
    """Lines with their tax, and the document's totals, to the cent."""
    drafts = [(i, i.quantity * i.unit_amount_cents) for i in inputs]
    taxes = [0] * len(drafts)
    for rate in sorted({i.tax_rate_bps for i, _ in drafts}):
        members = [n for n, (i, _) in enumerate(drafts) if i.tax_rate_bps == rate]
        group_tax = tax_of(sum(drafts[n][1] for n in members), rate, prices_include_tax)
        for n, part in zip(members, _share(group_tax, [drafts[n][1] for n in members]), strict=True):
            taxes[n] = part
    lines = tuple(
        InvoiceLine(i.description, i.quantity, i.unit_amount_cents, amount, i.tax_rate_bps, taxes[n])
        for n, (i, amount) in enumerate(drafts)
    )
    subtotal = sum(line.amount_cents for line in lines)
    tax = sum(taxes)
    total = subtotal if prices_include_tax else subtotal + tax
    return Totals(lines, subtotal, tax, total)


def status_for(total_cents: int, paid_cents: int) -> InvoiceStatus:
    return InvoiceStatus.PAID if total_cents - paid_cents <= 0 else InvoiceStatus.ISSUED


@dataclass(frozen=True)
class Sale:
    """What an invoice is issued for: one appointment, what it cost and what was paid for it."""

    appointment_id: str
    description: str
    price_cents: int
    currency: str
    supplied_on: date
    buyer: Buyer
    charges: tuple[tuple[int, datetime], ...] = field(default_factory=tuple)  # (amount, when), in order


def payment_lines(charges: Sequence[tuple[int, datetime]], total_cents: int) -> tuple[PaymentLine, ...]:
    """The first payment is a deposit when it left something to pay; later ones are the balance."""
    lines = []
    for n, (amount, at) in enumerate(charges):
        first = "Deposit paid" if amount < total_cents else "Paid"
        label = first if n == 0 else "Balance paid"
        lines.append(PaymentLine(label, amount, at))
    return tuple(lines)


def draft_invoice(
    *,
    invoice_id: str,
    tenant_id: str,
    sale: Sale,
    settings: InvoiceSettings,
    tax_rate_bps: int,
    issued_at: datetime,
) -> Invoice:
    """The invoice for a sale, numbered later (the number is claimed when it is stored)."""
    totals = compute_totals(
        [LineInput(sale.description, 1, sale.price_cents, tax_rate_bps)], settings.prices_include_tax
    )
    paid = sum(amount for amount, _ in sale.charges)
    return Invoice(
        id=invoice_id,
        tenant_id=tenant_id,
        kind=InvoiceKind.INVOICE,
        number="",
        status=status_for(totals.total_cents, paid),
        appointment_id=sale.appointment_id,
        refers_to=None,
        issued_at=issued_at,
        supplied_on=sale.supplied_on,
        currency=sale.currency,
        seller=Seller(settings.legal_name, settings.address, settings.tax_id),
        buyer=sale.buyer,
        lines=totals.lines,
        payments=payment_lines(sale.charges, totals.total_cents),
        prices_include_tax=settings.prices_include_tax,
        subtotal_cents=totals.subtotal_cents,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        amount_paid_cents=paid,
        amount_due_cents=totals.total_cents - paid,
    )


def with_payment(invoice: Invoice, amount_cents: int, paid_at: datetime) -> Invoice:
    """The invoice after a later payment towards it (the balance): what is due and the status
    follow; the lines, totals, seller and buyer stay as issued."""
    label = "Balance paid" if invoice.payments else ("Deposit paid" if amount_cents < invoice.total_cents else "Paid")
    paid = invoice.amount_paid_cents + amount_cents
    return replace(
        invoice,
        payments=(*invoice.payments, PaymentLine(label, amount_cents, paid_at)),
        amount_paid_cents=paid,
        amount_due_cents=invoice.total_cents - paid,
        status=status_for(invoice.total_cents, paid),
    )


def creditable_cents(invoice: Invoice, credited_cents: int) -> int:
    """What a new credit note may still take back: the invoice's total less earlier credit notes."""
    return max(0, invoice.total_cents - credited_cents)


UNCOLLECTED = "Cancelled, not collected"


def draft_credit_note(
    *,
    credit_note_id: str,
    invoice: Invoice,
    refunded_cents: int,
    issued_at: datetime,
    reason: str,
    label: str = "Refund",
) -> Invoice:
    """The credit note for money given back on an invoiced sale (or, labelled `UNCOLLECTED`, for
    the balance a cancellation leaves uncollected): minus the amount, in one line, at the
    invoice's rate. Its total is exactly minus the amount; with prices excluding tax the taxable
    part is the amount divided by (1 + r) and the tax the rest, so the two add up."""
    rate = invoice.lines[0].tax_rate_bps if invoice.lines else 0
    total = -refunded_cents
    tax = tax_of(total, rate, prices_include_tax=True)  # the tax inside the money given back
    subtotal = total if invoice.prices_include_tax else total - tax
    description = f"{label}: {invoice.lines[0].description}" if invoice.lines else label
    if reason:
        description += f" ({reason})"
    line = InvoiceLine(description, 1, subtotal, subtotal, rate, tax)
    return Invoice(
        id=credit_note_id,
        tenant_id=invoice.tenant_id,
        kind=InvoiceKind.CREDIT_NOTE,
        number="",
        status=InvoiceStatus.PAID,
        appointment_id=invoice.appointment_id,
        refers_to=invoice.id,
        refers_to_number=invoice.number,
        issued_at=issued_at,
        supplied_on=invoice.supplied_on,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=(line,),
        payments=(PaymentLine("Refunded", total, issued_at),) if label == "Refund" else (),
        prices_include_tax=invoice.prices_include_tax,
        subtotal_cents=subtotal,
        tax_cents=tax,
        total_cents=total,
        amount_paid_cents=total,
        amount_due_cents=0,
    )


def invoice_year(issued_at: datetime, zone: str) -> int:
    """The year whose series numbers the document: issuedAt's year in the tenant's zone."""
    return issued_at.astimezone(ZoneInfo(zone)).year


def format_number(prefix: str, year: int, sequence: int) -> str:
    """`INV-2027-0001`; a tenant past 9999 documents a year gets five digits and more."""
    return f"{prefix}-{year}-{sequence:04d}"


def missing_fields(invoice: Invoice) -> list[str]:
    """The art. 226 fields the document lacks, by their API names (empty: complete).

    (1) date of issue, (2) a sequential number, (5) the seller's name and address and (3)
    VAT id, the buyer's name, (6) quantity and nature of what was supplied, (7) its date,
    (8) the taxable amount per rate, the rate and (10) the tax payable."""
    missing = []
    if invoice.issued_at is None:
        missing.append("issuedAt")
    if not invoice.number:
        missing.append("number")
    if not invoice.seller.legal_name.strip():
        missing.append("seller.legalName")
    if not invoice.seller.address.line1.strip():
        missing.append("seller.address.line1")
    if not invoice.seller.address.city.strip():
        missing.append("seller.address.city")
    if not invoice.seller.address.country.strip():
        missing.append("seller.address.country")
    if not invoice.seller.tax_id.strip():
        missing.append("seller.taxId")
    if not invoice.buyer.name.strip():
        missing.append("buyer.name")
    if not invoice.lines:
        missing.append("lines")
    for n, line in enumerate(invoice.lines):
        if not line.description.strip():
            missing.append(f"lines[{n}].description")
        if line.quantity == 0:
            missing.append(f"lines[{n}].quantity")
    if invoice.supplied_on is None:
        missing.append("suppliedOn")
    if not invoice.currency:
        missing.append("currency")
    return missing


def require_complete(invoice: Invoice, *, numbered: bool = True) -> None:
    """Refuse a document EU VAT law would not accept, naming what is missing."""
    missing = [f for f in missing_fields(invoice) if numbered or f != "number"]
    if missing:
        raise InvoiceIncompleteError(
            f"An invoice needs {missing[0]} (Directive 2006/112/EC art. 226).", {"missing": missing}
        )


def tax_by_rate(invoice: Invoice) -> list[tuple[int, int, int]]:
    """(rate, taxable amount, tax) per rate: the breakdown art. 226 (8) and (10) ask for."""
    rates: dict[int, tuple[int, int]] = {}
    for line in invoice.lines:
        taxable, tax = rates.get(line.tax_rate_bps, (0, 0))
        net = line.amount_cents - line.tax_cents if invoice.prices_include_tax else line.amount_cents
        rates[line.tax_rate_bps] = (taxable + net, tax + line.tax_cents)
    return [(rate, taxable, tax) for rate, (taxable, tax) in sorted(rates.items())]
