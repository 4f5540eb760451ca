"""Mail (and SMS reminders) about an appointment, to its client and to its provider.

Every client mail carries a manage link with a freshly minted action token for the
appointment's current version, and an RFC 5545 invitation (or cancellation).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib import config
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.ics import CalendarEvent, render_ics
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.tokens import mint_token
from chalicelib.gateways.mail import MailGateway, MailRejectedError, OutgoingMail
from chalicelib.gateways.sms import SmsGateway, SmsRejectedError
from chalicelib.observability import logger
from chalicelib.services.mail_content import MailKind, render_mail
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

    def send(self, kind: MailKind, appointment: Appointment, recipient: Recipient, reason: str | None = None) -> str:
        """Send one mail; returns 'sent', 'suppressed' or 'rejected' (permanent failures are not retried)."""
        tenant = self._tenants.get(appointment.tenant_id)
        if self._suppressions.is_suppressed(tenant.id, recipient.email):
            logger.info("mail suppressed", extra={"appointmentId": appointment.id, "kind": kind.value})
            return "suppressed"
        provider_name = self._provider_name(appointment)
        manage_url = (
            self._manage_url(appointment) if recipient.is_client and kind is not MailKind.CANCELLATION else None
        )
        content = render_mail(
            kind,
            tenant_name=tenant.name,
            branding=tenant.branding,
            recipient_name=recipient.name,
            service_name=appointment.service_name,
            provider_name=provider_name,
            when=local_when(appointment.start, recipient.zone),
            manage_url=manage_url,
            reason=reason,
        )
        cancelled = kind is MailKind.CANCELLATION
        ics = (
            None
            if kind is MailKind.REMINDER
            else render_ics(self._event(tenant, appointment, provider_name, manage_url, cancelled))
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

    def _manage_url(self, appointment: Appointment) -> str | None:
        if appointment.start <= self._clock():
            return None
        minted = mint_token(appointment)
        self._appointments.add_token(appointment.tenant_id, minted.record)
        return f"{config.public_base_url()}/manage/{appointment.id}?t={appointment.tenant_id}&token={minted.plaintext}"

    def _event(
        self, tenant: Tenant, appointment: Appointment, provider_name: str, manage_url: str | None, cancelled: bool
    ) -> CalendarEvent:
        return CalendarEvent(
            uid=f"{appointment.id}@{tenant.slug}.scheduling",
            sequence=appointment.version,
            start=appointment.start,
            end=appointment.end,
            stamp=self._clock(),
            summary=f"{appointment.service_name} with {provider_name}",
            description=f"Booked with {tenant.name}." + (f" Manage: {manage_url}" if manage_url else ""),
            organizer_name=tenant.name,
            organizer_email=tenant.email,
            attendee_name=appointment.client.name,
            attendee_email=appointment.client.email,
            url=manage_url or "",
            cancelled=cancelled,
        )
