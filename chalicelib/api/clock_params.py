"""Query parameters that name a moment: an ISO instant, or a date at local midnight."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import from_iso
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.validation import calendar_date


def instant_or_date(text: str | None, name: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """An instant as given, or a date's local midnight; with `end_of_day` the midnight that ends
    the date, so a range ending on a date includes that whole day (as availability's dates do)."""
    if text is None:
        return None
    day = calendar_date(text)
    if day is not None:
        return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), zone)
    try:
        return from_iso(text)
    except ValueError as exc:
        raise ValidationError(
            f"{name} must be YYYY-MM-DD or an ISO-8601 instant.", {"fields": {name: "malformed"}}
        ) from exc
