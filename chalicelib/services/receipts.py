"""A receipt mail to the client after every successful payment and every completed refund.

Driven by the ledger's stream (a new charge or refund entry), once per entry through the
effect ledger, like every other mail: a redelivered record sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.money import format_money
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.gateways.mail import MailGateway, MailRejectedError, OutgoingMail
from chalicelib.observability import logger
from chalicelib.services.mail_content import REFUND_ARRIVAL, DocumentMail, render_document_mail
from chalicelib.services.mime import build_message
from chalicelib.services.notifications import local_when, mail_from
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.suppressions import SuppressionRepository
from chalicelib.store.tenants import TenantRepository

RECEIPT_KINDS = frozenset({LedgerKind.CHARGE, LedgerKind.REFUND})


class Receipts:
    def __init__(
        self,
        tenants: TenantRepository,
        appointments: AppointmentRepository,
        suppressions: SuppressionRepository,
        mail: MailGateway,
        clock: Callable[[], datetime],
    ) -> None:
        self._tenants = tenants
        self._appointments = appointments
        self._suppressions = suppressions
        self._mail = mail
        self._clock = clock

    def send(self, tenant_id: str, entry: LedgerEntry) -> str:
        """'sent', 'suppressed', 'rejected' or 'skipped' (not a payment or a refund)."""
        if entry.kind not in RECEIPT_KINDS:
            return "skipped"
        tenant = self._tenants.get(tenant_id)
        try:
            appointment = self._appointments.get(tenant_id, entry.appointment_id)
        except NotFoundError:
            return "skipped"
        client = appointment.client
        if self._suppressions.is_suppressed(tenant_id, client.email):
            return "suppressed"
        amount = format_money(entry.amount_cents, entry.currency)
        on = entry.at.astimezone(ZoneInfo(client.timezone)).strftime("%d %b %Y, %H:%M %Z")
        refund = entry.kind is LedgerKind.REFUND
        rows = (
            ("Amount", amount),
            ("Date", on),
            ("For", appointment.service_name),
            ("Appointment", local_when(appointment.start, client.timezone)),
            ("Paid in total", format_money(appointment.amount_paid_cents, appointment.currency)),
            ("Refunded in total", format_money(appointment.amount_refunded_cents, appointment.currency)),
            ("Reference", entry.stripe_id or entry.id),
        )
        content = render_document_mail(
            DocumentMail(
                subject=f"Receipt: {amount} refunded by {tenant.name}"
                if refund
                else f"Receipt: {amount} paid to {tenant.name}",
                heading="Refund receipt" if refund else "Payment receipt",
                lead=f"We refunded {amount} to you." if refund else f"We received your payment of {amount}.",
                rows=rows,
                notes=(REFUND_ARRIVAL,) if refund else (),
            ),
            tenant.name,
            tenant.branding,
            client.name,
        )
        raw = build_message(
            sender_name=tenant.name,
            sender=mail_from(),
            recipient_name=client.name,
            recipient=client.email,
            reply_to=tenant.email,
            content=content,
            ics=None,
        )
        kind = "receipt-refund" if refund else "receipt-payment"  # SES tag values: no colons
        try:
            self._mail.send(OutgoingMail(mail_from(), client.email, raw, {"tenant": tenant.id, "kind": kind}))
        except MailRejectedError as exc:
            logger.warning("receipt rejected", extra={"appointmentId": appointment.id, "reason": str(exc)})
            return "rejected"
        return "sent"
