"""The audit trail's query and page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.api.appointment_models import WindowQuery, instant_or_date
from chalicelib.api.model_types import Body, Id, Paged


class AuditQuery(WindowQuery):
    entity_id: Id | None = None

    def window(self, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
        """Default: the 30 days up to now; at most 400 days."""
        end = instant_or_date(self.to, zone, end_of_day=True) or now + timedelta(seconds=1)
        start = instant_or_date(self.from_, zone) or datetime.combine((end - timedelta(days=30)).date(), time(0), zone)
        return self.checked(start, end, 400)


class AuditEntry(Body):
    id: str
    at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


AuditPage = Paged[AuditEntry]
