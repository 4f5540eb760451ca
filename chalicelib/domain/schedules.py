"""Which one-time schedules an appointment needs: reminders and hold expiry.

Names derive from the appointment id, the reminder offset and the version, so a redelivered
change creates nothing new and a reschedule's schedules never collide with the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.appointments import Appointment

REMINDER_TASK = "reminder"
EXPIRE_HOLD_TASK = "expire_hold"


@dataclass(frozen=True)
class OneTimeSchedule:
    name: str
    at: datetime  # aware; fired at this instant (second precision, rounded up)
    payload: dict[str, Any]


def _before(instant: datetime, minutes: int) -> datetime:
    """`minutes` of elapsed time before `instant`. Arithmetic on an aware datetime in a zone
    with DST is wall-clock arithmetic in Python, so it is done in UTC."""
    return instant.astimezone(UTC) - timedelta(minutes=minutes)


def _ceil_second(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    if instant.microsecond:
        return instant.replace(microsecond=0) + timedelta(seconds=1)
    return instant


def reminder_name(appointment_id: str, offset_minutes: int, version: int) -> str:
    return f"rem-{appointment_id}-{offset_minutes}-v{version}"


def hold_expiry_name(appointment_id: str, version: int) -> str:
    return f"hold-{appointment_id}-v{version}"


def reminder_schedules(
    appointment: Appointment, offsets_minutes: tuple[int, ...], now: datetime
) -> list[OneTimeSchedule]:
    """One schedule per offset before the start; an offset already past at `now` is skipped, not fired."""
    planned = []
    for offset in sorted(set(offsets_minutes), reverse=True):
        at = _ceil_second(_before(appointment.start, offset))
        if at <= now:
            continue
        planned.append(
            OneTimeSchedule(
                reminder_name(appointment.id, offset, appointment.version),
                at,
                {
                    "task": REMINDER_TASK,
                    "tenantId": appointment.tenant_id,
                    "appointmentId": appointment.id,
                    "version": appointment.version,
                    "offsetMinutes": offset,
                },
            )
        )
    return planned


def hold_expiry_schedule(appointment: Appointment) -> OneTimeSchedule | None:
    if appointment.hold_until is None:
        return None
    return OneTimeSchedule(
        hold_expiry_name(appointment.id, appointment.version),
        _ceil_second(appointment.hold_until),
        {
            "task": EXPIRE_HOLD_TASK,
            "tenantId": appointment.tenant_id,
            "appointmentId": appointment.id,
            "version": appointment.version,
        },
    )
