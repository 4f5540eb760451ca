"""Choosing a provider when the client did not: fewest bookings that day, then round robin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo


def pick_provider(
    candidates: Iterable[str],
    bookings_that_day: Mapping[str, int],
    last_assigned: Mapping[str, datetime],
) -> str | None:
    """The candidate with the fewest bookings on the day; ties go to whoever was booked least
    recently (never-booked first), then by id so the choice is deterministic."""
    ordered = sorted(
        candidates,
        key=lambda pid: (
            bookings_that_day.get(pid, 0),
            last_assigned[pid].timestamp() if pid in last_assigned else float("-inf"),
            pid,
        ),
    )
    return ordered[0] if ordered else None


def local_day(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(ZoneInfo(zone_name)).date()
