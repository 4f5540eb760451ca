"""Invoicing: an invoice per appointment on request, a credit note for every refund of an
invoiced appointment, the PDF stored once, and the mail that sends it.

The number is claimed in the invoice's own transaction (store/invoices.py). The PDF is
rendered once, right after the invoice is issued, stored in the private bucket and its
SHA-256 recorded; serving or mailing it reads the stored bytes. A crash between the issue
and the upload leaves an invoice without a PDF, which the next read renders and stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.appointments import AppointmentStatus
from chalicelib.domain.errors import ConcurrentUpdateError, NotInvoiceableError, RuleViolationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.invoices import (
    UNCOLLECTED,
    Buyer,
    Invoice,
    InvoiceKind,
    Sale,
    creditable_cents,
    draft_credit_note,
    draft_invoice,
    invoice_year,
    require_complete,
    with_payment,
)
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.domain.tenant import Tenant
from chalicelib.gateways.documents import DocumentStore
from chalicelib.gateways.mail import MailGateway, MailRejectedError, OutgoingMail
from chalicelib.observability import logger
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.invoices import CreditExhaustedError, InvoiceRepository
from chalicelib.store.payments import PaymentRepository
from chalicelib.store.tenants import TenantRepository

INVOICEABLE = frozenset({AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED})
PDF_TYPE = "application/pdf"
CREDIT_ATTEMPTS = 5
UNCOLLECTED_CLAIM = "uncollected"  # the credit claim of a cancelled appointment's unpaid balance


@dataclass(frozen=True)
class SentInvoice:
    id: str
    number: str
    sent_to: str
    outcome: str  # sent | rejected


class Invoicing:
    def __init__(
        self,
        tenants: TenantRepository,
        appointments: AppointmentRepository,
        payments: PaymentRepository,
        invoices: InvoiceRepository,
        documents: Callable[[], DocumentStore],
        mail: Callable[[], MailGateway],
        clock: Callable[[], datetime],
    ) -> None:
        self._tenants = tenants
        self._appointments = appointments
        self._payments = payments
        self._invoices = invoices
        self._documents = documents
        self._mail = mail
        self._clock = clock

    # issuing ------------------------------------------------------------------------------
    def create(self, tenant: Tenant, appointment_id: str) -> tuple[Invoice, bool]:
        """The appointment's invoice: (it, True) when issued now, (the earlier one, False) after."""
        existing = self._invoices.for_appointment(tenant.id, appointment_id)
        if existing is not None:
            return self._with_pdf(tenant, existing), False
        appointment = self._appointments.get(tenant.id, appointment_id)
        if appointment.status not in INVOICEABLE:
            raise NotInvoiceableError(
                f"An invoice is issued for a confirmed or completed appointment, not a {appointment.status.value} one.",
                {"status": appointment.status.value},
            )
        ledger = sorted(self._payments.ledger(tenant.id, appointment_id), key=lambda e: (e.at, e.id))
        zone = ZoneInfo(tenant.timezone)
        local_start = appointment.start.astimezone(zone)
        sale = Sale(
            appointment_id=appointment.id,
            description=f"{appointment.service_name}, {local_start:%Y-%m-%d %H:%M}",
            price_cents=appointment.price_cents,
            currency=appointment.currency,
            supplied_on=local_start.date(),
            buyer=Buyer(appointment.client.name, appointment.client.email),
            charges=tuple((e.amount_cents, e.at) for e in ledger if e.kind is LedgerKind.CHARGE),
        )
        now = self._clock().replace(microsecond=0)  # as stored: a later render matches the first
        draft = draft_invoice(
            invoice_id=new_id("inv_"),
            tenant_id=tenant.id,
            sale=sale,
            settings=tenant.invoicing,
            tax_rate_bps=tenant.tax_rate_bps,
            issued_at=now,
        )
        require_complete(draft, numbered=False)  # refused before a number is taken: no gap
        charges = frozenset(e.id for e in ledger if e.kind is LedgerKind.CHARGE)
        invoice, created = self._invoices.issue_invoice(
            draft, tenant.invoice_prefix, invoice_year(now, tenant.timezone), charges
        )
        if not created:  # a concurrent request issued it first and renders its PDF
            return invoice, False
        for entry in ledger:  # refunds made before the invoice existed are credited too
            if entry.kind is LedgerKind.REFUND:
                self._credit(tenant, invoice, entry.id, entry.amount_cents)
        return self._with_pdf(tenant, invoice), True

    def credit_refund(self, tenant_id: str, refund: LedgerEntry) -> Invoice | None:
        """The credit note for a completed refund (None: the appointment has no invoice, or
        nothing is left to credit). Once per refund, however often it is called."""
        invoice = self._invoices.for_appointment(tenant_id, refund.appointment_id)
        if invoice is None:
            return None
        return self._credit(self._tenants.get(tenant_id), invoice, refund.id, refund.amount_cents)

    def credit_uncollected(self, tenant_id: str, appointment_id: str) -> Invoice | None:
        """A cancelled appointment's invoice still showing an amount due: that balance will never
        be collected, so a credit note takes it back (otherwise invoices less credit notes would
        exceed what the business kept). Once per appointment; None when nothing is due."""
        invoice = self._invoices.for_appointment(tenant_id, appointment_id)
        if invoice is None or invoice.amount_due_cents <= 0:
            return None
        tenant = self._tenants.get(tenant_id)
        return self._credit(tenant, invoice, UNCOLLECTED_CLAIM, invoice.amount_due_cents, UNCOLLECTED)

    def record_payment(self, tenant_id: str, charge: LedgerEntry) -> Invoice | None:
        """A payment made after the invoice was issued (the balance) counts towards it: amount due
        and status follow. Once per charge; the invoice's lines and PDF stay as issued."""
        for _ in range(CREDIT_ATTEMPTS):
            invoice = self._invoices.for_appointment(tenant_id, charge.appointment_id)
            if invoice is None or self._invoices.counts_payment(tenant_id, invoice.id, charge.id):
                return invoice
            updated = with_payment(invoice, charge.amount_cents, charge.at)
            if self._invoices.record_payment(tenant_id, invoice.id, charge.id, updated, invoice.amount_paid_cents):
                return updated
        raise ConcurrentUpdateError("The invoice's payments kept changing; try again.")

    def _credit(
        self, tenant: Tenant, invoice: Invoice, claim: str, wanted_cents: int, label: str = "Refund"
    ) -> Invoice | None:
        """At most `wanted_cents` credited once per `claim` (a refund's ledger entry id, or the
        uncollected balance), never more than what is left of the invoice."""
        earlier = self._invoices.for_refund(tenant.id, invoice.appointment_id, claim)
        if earlier is not None:
            return self._with_pdf(tenant, earlier)
        for _ in range(CREDIT_ATTEMPTS):
            # what is left: the invoice's total less every earlier credit note (kept on the invoice)
            left = creditable_cents(
                invoice, invoice.total_cents - self._invoices.creditable_cents(tenant.id, invoice.id)
            )
            amount = min(wanted_cents, left)
            if amount <= 0:
                logger.info("nothing left to credit", extra={"invoiceId": invoice.id, "claim": claim})
                return None
            now = self._clock().replace(microsecond=0)  # as stored: a later render matches the first
            draft = draft_credit_note(
                credit_note_id=new_id("cn_"),
                invoice=invoice,
                refunded_cents=amount,
                issued_at=now,
                reason="",
                label=label,
            )
            try:
                note, _ = self._invoices.issue_credit_note(
                    draft, tenant.credit_note_prefix, invoice_year(now, tenant.timezone), claim
                )
            except CreditExhaustedError:
                continue  # another credit note took part of what was left: read it again
            return self._with_pdf(tenant, note)
        raise CreditExhaustedError("What is left of the invoice kept changing; try again.")

    # reading ------------------------------------------------------------------------------
    def get(self, tenant: Tenant, invoice_id: str) -> tuple[Invoice, str]:
        """The document and a presigned link to its PDF (valid 15 minutes)."""
        invoice = self._with_pdf(tenant, self._invoices.get(tenant.id, invoice_id))
        key = self._invoices.pdf_key(tenant.id, invoice_id)
        assert key is not None
        return invoice, self._documents().url(key)

    def page(
        self, tenant: Tenant, start: datetime, end: datetime, kind: InvoiceKind | None, limit: int, cursor: str | None
    ) -> tuple[list[Invoice], str | None]:
        return self._invoices.page(tenant.id, start, end, kind, limit, cursor)

    def pdf(self, tenant: Tenant, invoice_id: str) -> tuple[Invoice, bytes]:
        """The stored PDF, checked against the digest recorded at issue."""
        invoice = self._with_pdf(tenant, self._invoices.get(tenant.id, invoice_id))
        key = self._invoices.pdf_key(tenant.id, invoice_id)
        assert key is not None
        data = self._documents().get(key)
        if hashlib.sha256(data).hexdigest() != invoice.pdf_sha256:
            raise RuleViolationError("The stored PDF does not match its recorded digest.", {"invoiceId": invoice_id})
        return invoice, data

    # sending ------------------------------------------------------------------------------
    def send(self, tenant: Tenant, invoice_id: str) -> SentInvoice:
        """Mail the stored PDF to the buyer as an attachment of a raw MIME message."""
        from chalicelib.domain.money import format_money
        from chalicelib.services.mail_content import DocumentMail, render_document_mail
        from chalicelib.services.mime import Attachment, build_message
        from chalicelib.services.notifications import mail_from

        invoice, data = self.pdf(tenant, invoice_id)
        title = "Invoice" if invoice.kind is InvoiceKind.INVOICE else "Credit note"
        content = render_document_mail(
            DocumentMail(
                subject=f"{title} {invoice.number} from {tenant.name}",
                heading=f"{title} {invoice.number}",
                lead=f"Please find {title.lower()} {invoice.number} attached.",
                rows=(
                    ("Number", invoice.number),
                    ("Total", format_money(invoice.total_cents, invoice.currency)),
                    ("Due", format_money(invoice.amount_due_cents, invoice.currency)),
                ),
            ),
            tenant.name,
            tenant.branding,
            invoice.buyer.name,
        )
        raw = build_message(
            sender_name=tenant.name,
            sender=mail_from(),
            recipient_name=invoice.buyer.name,
            recipient=invoice.buyer.email,
            reply_to=tenant.email,
            content=content,
            ics=None,
            attachments=(Attachment(f"{invoice.number}.pdf", "application", "pdf", data),),
        )
        tags = {"tenant": tenant.id, "kind": invoice.kind.value}
        try:
            self._mail().send(OutgoingMail(mail_from(), invoice.buyer.email, raw, tags))
        except MailRejectedError as exc:
            logger.warning("invoice mail rejected", extra={"invoiceId": invoice.id, "reason": str(exc)})
            return SentInvoice(invoice.id, invoice.number, invoice.buyer.email, "rejected")
        return SentInvoice(invoice.id, invoice.number, invoice.buyer.email, "sent")

    # the PDF ------------------------------------------------------------------------------
    def _with_pdf(self, tenant: Tenant, invoice: Invoice) -> Invoice:
        """Render and store the PDF once; a document that has one is returned as it is."""
        if invoice.pdf_sha256 is not None:
            return invoice
        from chalicelib.services.invoice_pdf import render_invoice_pdf

        data = render_invoice_pdf(
            invoice,
            brand_name=tenant.name,
            colour=tenant.branding.get("primaryColor"),
            paper_size=tenant.paper_size,
            zone=tenant.timezone,
        )
        digest = hashlib.sha256(data).hexdigest()
        # The digest in the key: a concurrent first render can never overwrite the recorded object.
        key = f"{tenant.id}/{invoice.kind.value}/{invoice.number}-{digest[:16]}.pdf"
        self._documents().put(key, data, PDF_TYPE, digest)
        recorded = self._invoices.attach_pdf(tenant.id, invoice.id, key, digest)
        return replace(invoice, pdf_sha256=recorded)
