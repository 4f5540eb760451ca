"""RFC 5545 calendar files for confirmation, reschedule and cancellation mail.

One stable UID per appointment; SEQUENCE is the appointment's version, which grows with
every change, so calendar clients replace the event they already have. Lines end in CRLF
and are folded at 75 octets without splitting a UTF-8 character; times are UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_LINE_OCTETS = 75
# Every line break str.splitlines() knows; a bare one would end the content line early.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Other control characters may not appear in TEXT or parameter values at all (RFC 5545 §3.1).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    description: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str
    location: str = ""
    url: str = ""
    cancelled: bool = False


def ics_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma; any line break as \\n."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROL.sub("", _LINE_BREAK.sub("\\\\n", escaped))


def _param(value: str) -> str:
    """A parameter value: quoted, with the characters a quoted value may not hold removed."""
    return '"' + _CONTROL.sub("", _LINE_BREAK.sub(" ", value.replace('"', "'"))) + '"'


def fold(line: str) -> str:
    """Split a content line into CRLF-SPACE continuations of at most 75 octets each."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_LINE_OCTETS:
        return line
    parts: list[str] = []
    current = b""
    limit = MAX_LINE_OCTETS
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = MAX_LINE_OCTETS - 1  # continuation lines start with one space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def render_ics(event: CalendarEvent, product: str = "-//Scheduling//Appointments//EN") -> str:
    method = "CANCEL" if event.cancelled else "REQUEST"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{ics_time(event.stamp)}",
        f"DTSTART:{ics_time(event.start)}",
        f"DTEND:{ics_time(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"ORGANIZER;CN={_param(event.organizer_name)}:mailto:{event.organizer_email}",
        f"ATTENDEE;CN={_param(event.attendee_name)};ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{event.attendee_email}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
