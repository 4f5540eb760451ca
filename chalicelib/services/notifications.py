"""Mail (and SMS reminders) about an appointment, to its client and to its provider.

Every client mail carries a manage link with a freshly minted action token for the
appointment's current version (view only once it is cancelled), and an RFC 5545
invitation (or cancellation).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import config
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.catalog import Service
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.ics import CalendarEvent, render_ics
from chalicelib.domain.money import format_money
from chalicelib.domain.payments import refund_percent
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.tokens import SELF_SERVICE_ACTIONS, VIEW_ONLY, mint_token
from chalicelib.gateways.mail import MailGateway, MailRejectedError, OutgoingMail
from chalicelib.gateways.sms import SmsGateway, SmsRejectedError
from chalicelib.observability import logger
from chalicelib.services.mail_content import Audience, MailFacts, MailKind, RefundNote, render_mail
from chalicelib.services.mime import build_message
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.suppressions import SuppressionRepository
from chalicelib.store.tenants import TenantRepository


def mail_from() -> str:
    return os.environ.get("MAIL_FROM", "no-reply@scheduling.local.test")


def local_when(instant: datetime, zone: str) -> str:
    """'Mon 15 Mar 2027, 10:00 EDT': how the recipient reads the time."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M %Z")


def intake_answers(service: Service | None, answers: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The client's intake answers under the labels the service asked them with."""
    labels = {f.id: f.label for f in service.intake_fields} if service else {}
    order = list(labels) + [key for key in answers if key not in labels]
    shown = []
    for key in order:
        if key not in answers or answers[key] is None or answers[key] == "":
            continue
        value = answers[key]
        shown.append((labels.get(key, key), ("yes" if value else "no") if isinstance(value, bool) else str(value)))
    return tuple(shown)


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    zone: str
    is_client: bool


class Notifier:
    def __init__(
        self,
        tenants: TenantRepository,
        catalog: CatalogRepository,
        appointments: AppointmentRepository,
        suppressions: SuppressionRepository,
        mail: MailGateway,
        sms: SmsGateway,
        clock: Callable[[], datetime],
    ) -> None:
        self._tenants = tenants
        self._catalog = catalog
        self._appointments = appointments
        self._suppressions = suppressions
        self._mail = mail
        self._sms = sms
        self._clock = clock

    def recipients(self, appointment: Appointment) -> list[Recipient]:
        client = appointment.client
        people = [Recipient(client.name, client.email, client.timezone, is_client=True)]
        try:
            provider = self._catalog.get_provider(appointment.tenant_id, appointment.provider_id)
        except NotFoundError:
            return people
        people.append(Recipient(provider.name, provider.email, appointment.timezone, is_client=False))
        return people

    def send(
        self,
        kind: MailKind,
        appointment: Appointment,
        recipient: Recipient,
        reason: str | None = None,
        *,
        with_refund: bool = False,
        previous_start: datetime | None = None,
    ) -> str:
        """Send one mail; returns 'sent', 'suppressed' or 'rejected' (permanent failures are not retried).

        `with_refund`: the mail of a cancellation states what it gave back and when it arrives.
        `previous_start`: a reschedule's former time, shown beside the new one."""
        tenant = self._tenants.get(appointment.tenant_id)
        if self._suppressions.is_suppressed(tenant.id, recipient.email):
            logger.info("mail suppressed", extra={"appointmentId": appointment.id, "kind": kind.value})
            return "suppressed"
        provider_name = self._provider_name(appointment)
        service = self._service(appointment)
        manage_url = self._manage_url(appointment, kind) if recipient.is_client else None
        client = appointment.client
        facts = MailFacts(
            tenant_name=tenant.name,
            branding=tenant.branding,
            recipient_name=recipient.name,
            service_name=appointment.service_name,
            provider_name=provider_name,
            when=local_when(appointment.start, recipient.zone),
            client_name=client.name,
            client_email=client.email,
            client_phone=client.phone,
            intake=() if recipient.is_client else intake_answers(service, appointment.intake),
            manage_url=manage_url,
            reason=reason,
            refund=self._refund_note(tenant, service, appointment) if with_refund else None,
            previous_when=local_when(previous_start, recipient.zone) if previous_start else None,
        )
        audience = Audience.CLIENT if recipient.is_client else Audience.PROVIDER
        content = render_mail(kind, audience, facts)
        cancelled = kind is MailKind.CANCELLATION
        ics = (
            None
            if kind is MailKind.REMINDER
            else render_ics(self._event(tenant, appointment, provider_name, manage_url, cancelled, recipient))
        )
        raw = build_message(
            sender_name=tenant.name,
            sender=mail_from(),
            recipient_name=recipient.name,
            recipient=recipient.email,
            reply_to=tenant.email,
            content=content,
            ics=ics,
            ics_method="CANCEL" if cancelled else "REQUEST",
        )
        try:
            self._mail.send(OutgoingMail(mail_from(), recipient.email, raw, {"tenant": tenant.id, "kind": kind.value}))
        except MailRejectedError as exc:
            logger.warning("mail rejected", extra={"appointmentId": appointment.id, "reason": str(exc)})
            return "rejected"
        return "sent"

    def send_sms_reminder(self, appointment: Appointment) -> str:
        tenant = self._tenants.get(appointment.tenant_id)
        if not tenant.sms_enabled or not appointment.client.phone:
            return "skipped"
        text = (
            f"{tenant.name}: reminder of {appointment.service_name} on "
            f"{local_when(appointment.start, appointment.client.timezone)}. Reply STOP to opt out."
        )
        try:
            self._sms.send(appointment.client.phone, text)
        except SmsRejectedError as exc:
            logger.info("sms not sent", extra={"appointmentId": appointment.id, "reason": str(exc)})
            return "rejected"
        return "sent"

    def _provider_name(self, appointment: Appointment) -> str:
        try:
            return self._catalog.get_provider(appointment.tenant_id, appointment.provider_id).name
        except NotFoundError:
            return "your provider"

    def _service(self, appointment: Appointment) -> Service | None:
        try:
            return self._catalog.get_service(appointment.tenant_id, appointment.service_id)
        except NotFoundError:
            return None  # deleted since: the appointment keeps its own snapshot

    def _refund_note(self, tenant: Tenant, service: Service | None, appointment: Appointment) -> RefundNote:
        """What the cancellation gave back: read from the ledger's totals and the cancelled item."""
        paid = self._appointments.get(appointment.tenant_id, appointment.id).amount_paid_cents
        if paid <= 0:
            return RefundNote(paid=None, refunded=None, by_policy=False)
        currency = appointment.currency
        refunded = appointment.refund_on_cancel_cents
        if refunded > 0:
            return RefundNote(format_money(paid, currency), format_money(refunded, currency), by_policy=False)
        policy = (service.cancellation_policy if service else None) or tenant.default_cancellation_policy
        by_policy = refund_percent(policy, appointment.start, appointment.updated_at) == 0
        return RefundNote(format_money(paid, currency), None, by_policy=by_policy)

    def _manage_url(self, appointment: Appointment, kind: MailKind) -> str | None:
        """The client's link for this version; after a cancellation it can only show the booking."""
        if appointment.start <= self._clock():
            return None
        minted = mint_token(appointment, VIEW_ONLY if kind is MailKind.CANCELLATION else SELF_SERVICE_ACTIONS)
        self._appointments.add_token(appointment.tenant_id, minted.record)
        return f"{config.public_base_url()}/manage/{appointment.id}?t={appointment.tenant_id}&token={minted.plaintext}"

    def _event(
        self,
        tenant: Tenant,
        appointment: Appointment,
        provider_name: str,
        manage_url: str | None,
        cancelled: bool,
        recipient: Recipient,
    ) -> CalendarEvent:
        client = appointment.client
        if recipient.is_client:
            description = f"Booked with {tenant.name}." + (f" Manage: {manage_url}" if manage_url else "")
        else:
            contact = ", ".join(part for part in (client.name, client.email, client.phone) if part)
            description = f"Client: {contact}."
        return CalendarEvent(
            uid=f"{appointment.id}@{tenant.slug}.scheduling",
            sequence=appointment.version,
            start=appointment.start,
            end=appointment.end,
            stamp=self._clock(),
            summary=f"{appointment.service_name} with {provider_name}",
            description=description,
            organizer_name=tenant.name,
            organizer_email=tenant.email,
            attendee_name=appointment.client.name,
            attendee_email=appointment.client.email,
            url=manage_url or "",
            cancelled=cancelled,
        )
