"""Appointments and the state machine that decides which moves are legal."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import ConflictError


class AppointmentStatus(enum.Enum):
    PENDING = "pending"  # a hold that expires unless paid
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


class PaymentStatus(enum.Enum):
    NONE = "none"
    DEPOSIT_PAID = "deposit_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Action(enum.Enum):
    """What an actor may do to an appointment; action tokens name a set of these."""

    VIEW = "view"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CONFIRM = "confirm"
    EXPIRE = "expire"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


ACTIVE = frozenset({AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED})
# Completed and no-show appointments keep their lock quanta: the time was used (or kept) all the same.
HOLDS_TIME = ACTIVE | {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}
_ALLOWED_FROM: dict[Action, frozenset[AppointmentStatus]] = {
    Action.CANCEL: ACTIVE,
    Action.RESCHEDULE: ACTIVE,
    Action.CONFIRM: frozenset({AppointmentStatus.PENDING}),
    Action.EXPIRE: frozenset({AppointmentStatus.PENDING}),
    Action.COMPLETE: frozenset({AppointmentStatus.CONFIRMED}),
    Action.NO_SHOW: frozenset({AppointmentStatus.CONFIRMED}),
}
_RESULT: dict[Action, AppointmentStatus] = {
    Action.CANCEL: AppointmentStatus.CANCELLED,
    Action.CONFIRM: AppointmentStatus.CONFIRMED,
    Action.EXPIRE: AppointmentStatus.EXPIRED,
    Action.COMPLETE: AppointmentStatus.COMPLETED,
    Action.NO_SHOW: AppointmentStatus.NO_SHOW,
}
_PAST = {
    Action.CANCEL: "cancelled",
    Action.RESCHEDULE: "rescheduled",
    Action.CONFIRM: "confirmed",
    Action.EXPIRE: "expired",
    Action.COMPLETE: "completed",
    Action.NO_SHOW: "marked as a no-show",
}


@dataclass(frozen=True)
class ClientInfo:
    name: str
    email: str
    phone: str | None
    timezone: str


@dataclass(frozen=True)
class Appointment:
    id: str
    tenant_id: str
    service_id: str
    service_name: str
    provider_id: str
    status: AppointmentStatus
    start: datetime
    end: datetime
    timezone: str  # the provider's zone, in which the appointment's day is counted
    client: ClientInfo
    intake: dict[str, Any]
    price_cents: int
    currency: str
    buffer_before_minutes: int
    buffer_after_minutes: int
    capacity: int
    created_at: datetime
    updated_at: datetime
    amount_due_now_cents: int = 0  # what must be paid to confirm a pending hold
    amount_paid_cents: int = 0
    amount_refunded_cents: int = 0
    payment_status: PaymentStatus = PaymentStatus.NONE
    hold_until: datetime | None = None
    cancel_reason: str | None = None
    version: int = 1
    # The version of the last change that ended the client's links (a reschedule or a
    # cancellation, by anyone): tokens minted for it or later work, older ones are gone.
    # Payment, expiry and reminders bump `version` but not this, so they end no link.
    links_from_version: int = 1
    refund_on_cancel_cents: int = 0  # what the cancellation gave back (0: nothing was due)
    calendar_conflict: bool = False  # its event was deleted or moved in the provider's Google Calendar

    @property
    def occupied(self) -> tuple[datetime, datetime]:
        """The provider's time this appointment takes: itself widened by its buffers."""
        return (
            self.start - timedelta(minutes=self.buffer_before_minutes),
            self.end + timedelta(minutes=self.buffer_after_minutes),
        )

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    def is_active(self, now: datetime) -> bool:
        """Still ahead of the client: confirmed, or pending with an unexpired hold."""
        if self.status is AppointmentStatus.CONFIRMED:
            return True
        return self.status is AppointmentStatus.PENDING and self.hold_until is not None and self.hold_until > now

    def holds_time(self, now: datetime) -> bool:
        """Owns its provider's time (and lock quanta): active, completed or a no-show."""
        return self.is_active(now) or self.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def check_transition(appointment: Appointment, action: Action, now: datetime) -> None:
    """Raise ConflictError (409) when `action` is not legal for the appointment now."""
    allowed = _ALLOWED_FROM.get(action)
    if allowed is None:
        return
    if appointment.status not in allowed:
        raise ConflictError(
            f"A {appointment.status.value} appointment cannot be {_PAST[action]}.",
            {"status": appointment.status.value, "action": action.value},
        )
    expired_hold = appointment.hold_until is not None and appointment.hold_until <= now
    if (
        action in (Action.CANCEL, Action.RESCHEDULE)
        and appointment.status is AppointmentStatus.PENDING
        and expired_hold
    ):
        raise ConflictError("This hold has expired.", {"status": "expired", "action": action.value})
    if action is Action.EXPIRE and not expired_hold:
        raise ConflictError("This hold has not run out yet.", {"status": appointment.status.value, "action": "expire"})
    if action in (Action.COMPLETE, Action.NO_SHOW) and appointment.start > now:
        raise ConflictError(
            "An appointment that has not started cannot be marked completed or no-show.",
            {"status": appointment.status.value, "action": action.value},
        )
    if action is Action.RESCHEDULE and appointment.start <= now:
        raise ConflictError("An appointment that has started cannot be rescheduled.", {"action": action.value})


def apply_transition(appointment: Appointment, action: Action, now: datetime, reason: str | None = None) -> Appointment:
    """The appointment after a legal state change (version bumped; a cancellation also ends the client's links)."""
    check_transition(appointment, action, now)
    status = _RESULT[action]
    version = appointment.version + 1
    return replace(
        appointment,
        status=status,
        updated_at=now,
        version=version,
        links_from_version=version if action is Action.CANCEL else appointment.links_from_version,
        hold_until=None if status is not AppointmentStatus.PENDING else appointment.hold_until,
        cancel_reason=reason if action is Action.CANCEL else appointment.cancel_reason,
    )


def rescheduled(
    appointment: Appointment, start: datetime, provider_id: str, timezone: str, now: datetime
) -> Appointment:
    """The appointment at its new time; every link the client had ends with the move."""
    check_transition(appointment, Action.RESCHEDULE, now)
    duration = appointment.end - appointment.start
    version = appointment.version + 1
    return replace(
        appointment,
        start=start,
        end=start + duration,
        provider_id=provider_id,
        timezone=timezone,
        updated_at=now,
        version=version,
        links_from_version=version,
        calendar_conflict=False,  # the business acted: the new time is pushed to the calendar again
    )
