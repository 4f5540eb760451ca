"""Google Calendar two-way sync, the pure part: event ids, event bodies, what blocks time.

No Google import here: events are the JSON dicts of Calendar v3. Time comes in as a parameter.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.appointments import Appointment
from chalicelib.domain.clock import to_iso
from chalicelib.domain.ids import is_plausible_id

Event = dict[str, Any]
APPOINTMENT_PROPERTY = "appointmentId"  # extendedProperties.private key marking our own events
TENANT_PROPERTY = "tenantId"
APPOINTMENT_PREFIX = "apt_"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")  # what Google accepts as a client-supplied event id
RENEW_WATCH_TASK = "calendar_renew_watch"
PIECE = timedelta(days=1)  # busy blocks are stored in pieces of at most a day (bounded range queries)


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    BROKEN = "broken"  # the grant was revoked (invalid_grant): booking goes on without the calendar
    DISCONNECTED = "disconnected"


def event_id_for(appointment_id: str) -> str:
    """Google accepts client ids in base32hex (a-v, 0-9): derived from ours, so a retried insert
    answers 409 instead of creating a second event."""
    return base64.b32hexencode(appointment_id.encode()).decode().lower().rstrip("=")


def event_body(appointment: Appointment, summary: str, description: str) -> Event:
    return {
        "id": event_id_for(appointment.id),
        "summary": summary,
        "description": description,
        "start": {"dateTime": to_iso(appointment.start), "timeZone": appointment.timezone},
        "end": {"dateTime": to_iso(appointment.end), "timeZone": appointment.timezone},
        "transparency": "opaque",
        "extendedProperties": {
            "private": {APPOINTMENT_PROPERTY: appointment.id, TENANT_PROPERTY: appointment.tenant_id}
        },
    }


def appointment_id_of_event_id(event_id: str) -> str | None:
    """The inverse of `event_id_for` (a deleted event comes back from Google with its id only)."""
    try:
        decoded = base64.b32hexdecode(event_id.upper() + "=" * (-len(event_id) % 8)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if is_plausible_id(decoded, APPOINTMENT_PREFIX) else None


def own_appointment_id(event: Event) -> str | None:
    """The appointment an event of ours belongs to (None: someone else's event)."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    value = private.get(APPOINTMENT_PROPERTY)
    if value:
        return str(value)
    return appointment_id_of_event_id(str(event.get("id") or ""))


def _parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def event_interval(event: Event, zone: str) -> tuple[datetime, datetime] | None:
    """[start, end) of an event in UTC; an all-day event covers its local days in `zone` (the
    provider's), whatever zone Google stores it in."""
    start, end = event.get("start") or {}, event.get("end") or {}
    if start.get("dateTime") and end.get("dateTime"):
        return _parse_instant(str(start["dateTime"])), _parse_instant(str(end["dateTime"]))
    if start.get("date") and end.get("date"):
        tz = ZoneInfo(zone)
        return _local_midnight(date.fromisoformat(str(start["date"])), tz), _local_midnight(
            date.fromisoformat(str(end["date"])), tz
        )
    return None


def _declined_by_owner(event: Event, calendar_email: str | None) -> bool:
    for attendee in event.get("attendees") or []:
        mine = attendee.get("self") or (calendar_email is not None and attendee.get("email") == calendar_email)
        if mine and attendee.get("responseStatus") == "declined":
            return True
    return False


def busy_interval(event: Event, zone: str, calendar_email: str | None) -> tuple[datetime, datetime] | None:
    """The time an external event takes from the provider, or None when it takes none: cancelled,
    transparent ("free"), declined by the provider, or one of our own appointments (those
    already hold their time through the booking)."""
    if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
        return None
    if own_appointment_id(event) is not None or _declined_by_owner(event, calendar_email):
        return None
    interval = event_interval(event, zone)
    if interval is None or interval[1] <= interval[0]:
        return None
    return interval


def pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights: each piece lies within a day, so a range query that
    looks back one day finds every piece that meets the range."""
    found = []
    current = start
    while current < end:
        midnight = datetime.combine(current.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
        found.append((current, min(end, midnight)))
        current = min(end, midnight)
    return found


class OwnEventChange(enum.Enum):
    DELETED = "deleted"
    MOVED = "moved"


def own_event_change(event: Event, appointment: Appointment) -> OwnEventChange | None:
    """What the calendar's owner did to the event of a confirmed appointment (None: nothing we
    did not do ourselves)."""
    if event.get("status") == "cancelled":
        return OwnEventChange.DELETED
    interval = event_interval(event, appointment.timezone)
    if interval is None or interval != (appointment.start, appointment.end):
        return OwnEventChange.MOVED
    return None


@dataclass(frozen=True)
class BusyBlock:
    provider_id: str
    event_id: str
    start: datetime
    end: datetime


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def channel_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
