"""Why a start is outside availability, in terms a client can act on.

The slot engine answers only whether a start is offered; this names the first rule a
rejected start breaks, for the 422's `details.reason`. It never decides anything itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.slots import BookingRules

BEFORE_MIN_NOTICE = "before_min_notice"
BEYOND_MAX_ADVANCE = "beyond_max_advance"
NOT_A_SLOT_START = "not_a_slot_start"  # outside the provider's hours, or off the slot grid


def outside_availability_details(rules: BookingRules, start: datetime, zone: str) -> dict[str, Any]:
    """`{"reason": ...}` plus the limit that was broken, for a start the engine did not offer."""
    if start < rules.now + timedelta(minutes=rules.min_notice_minutes):
        return {"reason": BEFORE_MIN_NOTICE, "minNoticeMinutes": rules.min_notice_minutes}
    tz = ZoneInfo(zone)
    if start.astimezone(tz).date() > rules.now.astimezone(tz).date() + timedelta(days=rules.max_advance_days):
        return {"reason": BEYOND_MAX_ADVANCE, "maxAdvanceDays": rules.max_advance_days}
    return {"reason": NOT_A_SLOT_START}
