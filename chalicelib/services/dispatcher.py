"""Everything a committed change implies, driven by the table's stream.

Each stream record becomes (1) an audit entry, when the item is one the trail follows, and
(2) for appointments, the effects of its transition: mail to the client and the provider,
reminder and hold-expiry schedules created or removed. Each effect runs at most once per
(appointment, version, effect) through the effect ledger, so duplicated or redelivered
records change nothing; a failing effect makes its record fail and be retried.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.appointments import Appointment, AppointmentStatus
from chalicelib.domain.audit import AuditEntry, summarise
from chalicelib.domain.clock import to_iso
from chalicelib.domain.payments import LedgerKind
from chalicelib.domain.schedules import hold_expiry_schedule, reminder_schedules
from chalicelib.gateways.queues import QueueGateway
from chalicelib.gateways.scheduler import SchedulerGateway
from chalicelib.observability import logger
from chalicelib.services.mail_content import MailKind
from chalicelib.services.notifications import Notifier, Recipient
from chalicelib.store import read_memo
from chalicelib.store.audit import AuditRepository
from chalicelib.store.effects import EffectLedger
from chalicelib.store.payments import entry_from_image
from chalicelib.store.stream import AUDITED_TYPES, TableChange
from chalicelib.store.tenants import TenantRepository

if TYPE_CHECKING:
    from chalicelib.services.calendar_sync import CalendarSync
    from chalicelib.services.client_money import ClientMoney
    from chalicelib.services.invoicing import Invoicing
    from chalicelib.services.receipts import Receipts
    from chalicelib.services.waitlist_effects import WaitlistEffects

SCHEDULED_EFFECT = "schedule"
WAITLIST_TYPES = frozenset({"WaitlistEntry", "WaitlistOffer"})


@dataclass(frozen=True)
class MoneyEffects:
    """What follows a new ledger entry, built on first use (fpdf2 and the fonts load only then)."""

    invoicing: Callable[[], Invoicing]
    receipts: Callable[[], Receipts]
    client_money: Callable[[], ClientMoney] | None = None


MOVED_AWAY = "Moved to another provider."


class Transition(enum.Enum):
    BOOKED = "booked"  # created confirmed
    HELD = "held"  # created pending (awaiting payment)
    CONFIRMED = "confirmed"  # pending -> confirmed
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


_FINAL = {
    AppointmentStatus.CANCELLED: Transition.CANCELLED,
    AppointmentStatus.EXPIRED: Transition.EXPIRED,
    AppointmentStatus.COMPLETED: Transition.COMPLETED,
    AppointmentStatus.NO_SHOW: Transition.NO_SHOW,
}


def classify(old: Appointment | None, new: Appointment | None) -> Transition | None:
    """The business event a change of an appointment item represents (None: nothing to do)."""
    if new is None:
        return None
    if old is None:
        return Transition.HELD if new.status is AppointmentStatus.PENDING else Transition.BOOKED
    if old.version == new.version:
        return None
    if old.status is AppointmentStatus.PENDING and new.status is AppointmentStatus.CONFIRMED:
        return Transition.CONFIRMED
    if old.status is not new.status:
        return _FINAL.get(new.status)
    if (old.start, old.provider_id) != (new.start, new.provider_id):
        return Transition.RESCHEDULED if new.status is AppointmentStatus.CONFIRMED else Transition.HELD
    return None


class Dispatcher:
    def __init__(
        self,
        ledger: EffectLedger,
        audit: AuditRepository,
        notifier: Notifier,
        scheduler: SchedulerGateway,
        tenants: TenantRepository,
        clock: Callable[[], datetime],
        refund_queue: QueueGateway,
        money_effects: MoneyEffects | None = None,
        waitlist: Callable[[], WaitlistEffects] | None = None,
        calendar: Callable[[], CalendarSync] | None = None,
    ) -> None:
        self._ledger = ledger
        self._audit = audit
        self._notifier = notifier
        self._scheduler = scheduler
        self._tenants = tenants
        self._clock = clock
        self._refund_queue = refund_queue
        self._money_effects = money_effects
        self._waitlist = waitlist
        self._calendar = calendar

    def handle_batch(self, changes: Iterable[tuple[str, Callable[[], TableChange]]]) -> list[str]:
        """Records in order; at the first failure stop and report it (the stream resumes there).

        `changes` yields (item identifier, decoder): a record that cannot even be decoded is a
        failure like any other, reported rather than dropped."""
        for identifier, decode in changes:
            try:
                self.handle(decode())
            except Exception:
                logger.exception("stream record failed", extra={"record": identifier})
                return [identifier]
        return []

    def handle(self, change: TableChange) -> None:
        """One record's audit entry and effects, all reading the tenant and provider once."""
        if change.tenant_id is None or change.by_ttl:
            return
        with read_memo.scope():
            self._handle(change)

    def _handle(self, change: TableChange) -> None:
        assert change.tenant_id is not None
        self._record_audit(change)
        if change.item_type == "Appointment":
            self._appointment_effects(change)
        elif change.item_type == "RefundRequest" and change.event_name == "INSERT" and change.new:
            self._enqueue_refund(change.tenant_id, change.new)
        elif change.item_type == "LedgerEntry" and change.event_name == "INSERT" and change.new:
            self._ledger_effects(change.tenant_id, change.new)
        elif change.item_type in WAITLIST_TYPES and self._waitlist is not None:
            self._waitlist().item_changed(change)

    def _ledger_effects(self, tenant_id: str, image: dict[str, Any]) -> None:
        """A payment or refund just recorded: the client's receipt and, on an invoiced
        appointment, the payment counted on its invoice or the refund's credit note. Each once
        per ledger entry."""
        if self._money_effects is None:
            return
        effects = self._money_effects
        entry = entry_from_image(image)
        if entry.kind not in (LedgerKind.CHARGE, LedgerKind.REFUND):
            return
        if effects.client_money is not None:  # once by its own marker, like the uncollected credit
            effects.client_money().count(tenant_id, entry)
        if entry.kind is LedgerKind.CHARGE:

            def count_payment() -> dict[str, Any]:
                invoice = effects.invoicing().record_payment(tenant_id, entry)
                return {"invoice": invoice.number if invoice else None}

            self._ledger.once(
                tenant_id, entry.appointment_id, 0, f"invoice-payment:{entry.id}", self._clock, count_payment
            )
        if entry.kind is LedgerKind.REFUND:

            def credit() -> dict[str, Any]:
                note = effects.invoicing().credit_refund(tenant_id, entry)
                return {"creditNote": note.number if note else None}

            self._ledger.once(tenant_id, entry.appointment_id, 0, f"credit-note:{entry.id}", self._clock, credit)

        def receipt() -> dict[str, Any]:
            return {"outcome": effects.receipts().send(tenant_id, entry)}

        self._ledger.once(tenant_id, entry.appointment_id, 0, f"mail:receipt:{entry.id}", self._clock, receipt)

    def _enqueue_refund(self, tenant_id: str, request: dict[str, Any]) -> None:
        """The request was committed first; its SQS message follows from the stream, so none is lost."""
        appointment_id, request_id = str(request["appointment_id"]), str(request["request_id"])
        message = {"tenantId": tenant_id, "appointmentId": appointment_id, "requestId": request_id}

        def send() -> dict[str, Any]:
            self._refund_queue.send(message)
            return {"queued": request_id}

        self._ledger.once(tenant_id, appointment_id, 0, f"enqueue-refund:{request_id}", self._clock, send)

    # audit ------------------------------------------------------------------------------
    def _record_audit(self, change: TableChange) -> None:
        entry = audit_entry(change, self._clock())
        if entry is not None:
            self._audit.record(entry)

    # appointments -----------------------------------------------------------------------
    def _appointment_effects(self, change: TableChange) -> None:
        new = change.new_appointment
        transition = classify(change.old_appointment, new)
        if transition is None or new is None:
            return
        created = change.old_appointment is None  # no earlier version, so nothing to unschedule
        if transition in (Transition.BOOKED, Transition.CONFIRMED):
            self._mail_everyone(new, MailKind.CONFIRMATION)
            if not created:
                self._unschedule_earlier(new)
            self._schedule_reminders(new)
            self._push_to_calendar(new, None)
        elif transition is Transition.HELD:
            if not created:
                self._unschedule_earlier(new)
            self._schedule_hold_expiry(new)
        elif transition is Transition.RESCHEDULED:
            old = change.old_appointment
            self._mail_everyone(new, MailKind.RESCHEDULE, previous_start=old.start if old else None)
            self._withdraw_from_former_provider(change.old_appointment, new)
            self._unschedule_earlier(new)
            self._schedule_reminders(new)
            self._push_to_calendar(new, old)
        elif transition is Transition.CANCELLED:
            self._mail_everyone(new, MailKind.CANCELLATION, reason=new.cancel_reason, with_refund=True)
            self._unschedule_earlier(new)
            self._credit_uncollected(new)
            self._push_to_calendar(new, None)
        else:  # expired, completed, no-show: nothing more to remind anyone of
            self._unschedule_earlier(new)
        if self._waitlist is not None:  # freed times go to the waitlist; bookings retire entries
            self._waitlist().appointment_changed(change.old_appointment, new, transition.value)

    def _credit_uncollected(self, appointment: Appointment) -> None:
        """An invoiced appointment cancelled with money still due: a credit note for that balance.
        Not through the effect ledger: the note's own claim makes it once, and most cancelled
        appointments have no invoice, so this costs one read rather than the ledger's writes."""
        if self._money_effects is not None:
            self._money_effects.invoicing().credit_uncollected(appointment.tenant_id, appointment.id)

    def _push_to_calendar(self, appointment: Appointment, previous: Appointment | None) -> None:
        """The provider's Google Calendar follows the appointment (insert / patch / delete, once)."""
        if self._calendar is None:
            return
        calendar = self._calendar

        def push() -> dict[str, Any]:
            return calendar().push(appointment, previous) | {"version": appointment.version}

        self._once(appointment, "gcal:push", push)

    def _once(self, appointment: Appointment, effect: str, run: Callable[[], dict[str, Any] | None]) -> None:
        self._ledger.once(appointment.tenant_id, appointment.id, appointment.version, effect, self._clock, run)

    def _mail_everyone(
        self,
        appointment: Appointment,
        kind: MailKind,
        reason: str | None = None,
        *,
        with_refund: bool = False,
        previous_start: datetime | None = None,
    ) -> None:
        """One mail per recipient; a cancellation states its refund, a reschedule its former start."""
        for recipient in self._notifier.recipients(appointment):
            role = "client" if recipient.is_client else "provider"
            send = partial(
                self._notifier.send,
                kind,
                appointment,
                recipient,
                reason,
                with_refund=with_refund,
                previous_start=previous_start,
            )
            self._once(appointment, f"mail:{kind.value}:{role}", partial(_outcome, send))

    def _send_mail(
        self, kind: MailKind, appointment: Appointment, recipient: Recipient, reason: str | None
    ) -> dict[str, Any]:
        return {"outcome": self._notifier.send(kind, appointment, recipient, reason)}

    def _withdraw_from_former_provider(self, old: Appointment | None, new: Appointment) -> None:
        """A move to another provider takes the event off the first one's calendar: they get a
        cancellation of the old time, with the event's UID and the new SEQUENCE."""
        if old is None or old.provider_id == new.provider_id:
            return
        withdrawn = replace(old, version=new.version)
        for recipient in self._notifier.recipients(old):
            if not recipient.is_client:
                self._once(
                    new,
                    "mail:cancellation:former-provider",
                    partial(self._send_mail, MailKind.CANCELLATION, withdrawn, recipient, MOVED_AWAY),
                )

    def _schedule_reminders(self, appointment: Appointment) -> None:
        def create() -> dict[str, Any]:
            tenant = self._tenants.get(appointment.tenant_id)
            planned = reminder_schedules(appointment, tenant.reminder_offsets_minutes, self._clock())
            for schedule in planned:
                self._scheduler.create(schedule)
            return {"names": [s.name for s in planned]}

        self._once(appointment, f"{SCHEDULED_EFFECT}:reminders", create)

    def _schedule_hold_expiry(self, appointment: Appointment) -> None:
        def create() -> dict[str, Any]:
            schedule = hold_expiry_schedule(appointment)
            if schedule is None:
                return {"names": []}
            self._scheduler.create(schedule)
            return {"names": [schedule.name]}

        self._once(appointment, f"{SCHEDULED_EFFECT}:hold", create)

    def _unschedule_earlier(self, appointment: Appointment) -> None:
        """Delete every schedule created for earlier versions (deleting a fired one is harmless)."""

        def delete() -> dict[str, Any]:
            names = [
                name
                for detail in self._ledger.details(appointment.tenant_id, appointment.id, "")
                for name in detail.get("names", [])
                if not name.endswith(f"-v{appointment.version}")
            ]
            for name in names:
                self._scheduler.delete(name)
            return {"deleted": names}

        self._once(appointment, "unschedule", delete)


def _outcome(send: Callable[[], str]) -> dict[str, Any]:
    return {"outcome": send()}


def audit_entry(change: TableChange, now: datetime) -> AuditEntry | None:
    """The trail's entry for a change, or None when the change is mechanics (locks, tokens...)."""
    assert change.tenant_id is not None
    entry_id = hashlib.sha256(change.event_id.encode()).hexdigest()[:24]
    image = change.image
    at = to_iso(change.changed_at or now)
    if change.item_type == "Tombstone" and change.event_name == "INSERT" and change.new:
        return AuditEntry(
            id=entry_id,
            tenant_id=change.tenant_id,
            at=at,
            actor=str(change.new.get("actor") or "system"),
            action="deleted",
            entity_type=str(change.new["entity_type"]),
            entity_id=str(change.new["entity_id"]),
            before=dict(change.new.get("summary") or {}),
            after=None,
            sequence=change.sequence,
        )
    entity_type = AUDITED_TYPES.get(change.item_type or "")
    if entity_type is None or change.event_name == "REMOVE":
        return None
    before, after = summarise(change.old, change.new)
    if change.event_name == "MODIFY" and not after:
        return None
    action = "created" if change.event_name == "INSERT" else "updated"
    if change.item_type == "Appointment":
        transition = classify(change.old_appointment, change.new_appointment)
        action = transition.value if transition is not None else action
    return AuditEntry(
        id=entry_id,
        tenant_id=change.tenant_id,
        at=at,
        actor=str(image.get("actor") or "system"),
        action=action,
        entity_type=entity_type,
        entity_id=change.entity_id,
        before=before,
        after=after,
        sequence=change.sequence,
    )
