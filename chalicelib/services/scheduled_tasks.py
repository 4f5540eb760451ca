"""What EventBridge Scheduler's one-time schedules do when they fire: reminders and hold expiry.

Each task re-reads the appointment: a reminder for a cancelled, moved (other version) or
already started appointment sends nothing, and no reminder is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.appointments import AppointmentStatus
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.schedules import EXPIRE_HOLD_TASK, REMINDER_TASK
from chalicelib.observability import logger
from chalicelib.services.booking import BookingService
from chalicelib.services.mail_content import MailKind
from chalicelib.services.notifications import Notifier
from chalicelib.store import read_memo
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.effects import EffectLedger

if TYPE_CHECKING:
    from chalicelib.services.waitlist_offers import WaitlistOffers

WAITLIST_TASKS = frozenset({"waitlist_offer_expiry", "waitlist_send_queued"})  # waitlist_offers.WAITLIST_TASKS


class ScheduledTasks:
    def __init__(
        self,
        appointments: AppointmentRepository,
        booking: BookingService,
        notifier: Notifier,
        ledger: EffectLedger,
        clock: Callable[[], datetime],
        waitlist: Callable[[], WaitlistOffers] | None = None,
    ) -> None:
        self._waitlist = waitlist
        self._appointments = appointments
        self._booking = booking
        self._notifier = notifier
        self._ledger = ledger
        self._clock = clock

    def run(self, payload: dict[str, Any]) -> dict[str, str]:
        task = payload.get("task")
        if task in WAITLIST_TASKS and self._waitlist is not None:  # offer expiry, queued offer mails
            return self._waitlist().run_task(payload)
        try:
            tenant_id, appointment_id, version = payload["tenantId"], payload["appointmentId"], int(payload["version"])
        except (KeyError, TypeError, ValueError):
            logger.error("malformed scheduled task", extra={"task": str(task)})
            return {"outcome": "malformed"}
        try:
            if task == REMINDER_TASK:
                with read_memo.scope():  # each message reads the tenant and provider: once is enough
                    return {"outcome": self.remind(tenant_id, appointment_id, version, int(payload["offsetMinutes"]))}
            if task == EXPIRE_HOLD_TASK:
                expired = self._booking.expire_hold(tenant_id, appointment_id, version)
                return {"outcome": "expired" if expired else "not_pending"}
        except NotFoundError:
            return {"outcome": "gone"}
        logger.error("unknown scheduled task", extra={"task": str(task)})
        return {"outcome": "unknown_task"}

    def remind(self, tenant_id: str, appointment_id: str, version: int, offset_minutes: int) -> str:
        appointment = self._appointments.get(tenant_id, appointment_id)
        if appointment.status is not AppointmentStatus.CONFIRMED:
            return "not_confirmed"
        if appointment.version != version:
            return "moved"
        if appointment.start <= self._clock():
            return "past"

        # One ledger entry per message: when SES throttles the second mail, the retry sends
        # only what is still missing, never the first one again.
        sends: list[tuple[str, Callable[[], str]]] = [
            (
                "client" if r.is_client else "provider",
                partial(self._notifier.send, MailKind.REMINDER, appointment, r),
            )
            for r in self._notifier.recipients(appointment)
        ]
        sends.append(("sms", partial(self._notifier.send_sms_reminder, appointment)))
        ran = False
        for channel, send in sends:
            ran |= self._ledger.once(
                tenant_id,
                appointment_id,
                version,
                f"reminder:{offset_minutes}:{channel}",
                self._clock,
                partial(_outcome, send),
            )
        return "sent" if ran else "already_sent"


def _outcome(send: Callable[[], str]) -> dict[str, Any]:
    return {"outcome": send()}
