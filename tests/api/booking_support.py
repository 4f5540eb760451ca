"""A tenant that can be booked: services, providers with weekly hours, a frozen clock, and
short calls for availability, booking and appointment actions. Shared by the booking,
group-class and race tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import to_iso
from chalicelib.services import registry
from tests.api.conftest import Api

# Monday 2027-03-01 12:00 UTC (07:00 in New York, EST). The booking days below are in the
# second half of March, after New York moved to EDT (UTC-4) on Sunday 2027-03-14.
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"
MONDAY = "2027-03-15"
TUESDAY = "2027-03-16"
WEEKDAYS_9_TO_17 = [{"dayOfWeek": day, "start": "09:00", "end": "17:00", "serviceIds": None} for day in range(5)]


def freeze(moment: datetime) -> None:
    registry.set_clock(lambda: moment)


def local(day: str, hhmm: str) -> str:
    """A wall time in New York as the API's UTC instant."""
    return to_iso(datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=ZoneInfo(ZONE)))


def client(name: str = "Ann", email: str | None = None) -> dict[str, Any]:
    return {"name": name, "email": email or f"{name.lower()}@example.test", "timezone": ZONE}


@dataclass
class Shop:
    """One tenant seen from its admin (secret key) and its clients (publishable key)."""

    api: Api
    tenant: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.tenant["secretKey"])

    @property
    def public_key(self) -> str:
        return str(self.tenant["publishableKey"])

    # catalog ---------------------------------------------------------------------------
    def service(self, **fields: Any) -> dict[str, Any]:
        return self.api.create_service(self.key, **fields)

    def provider(
        self, services: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None, **fields: Any
    ) -> dict[str, Any]:
        name = fields.pop("name", "Dana")
        created = self.api.create_provider(
            self.key, [s["id"] for s in services], name=name, email=f"{name.lower()}@shop.test", **fields
        )
        status, body = self.api.call(
            "PUT",
            f"/v1/admin/providers/{created['id']}/availability",
            {"rules": WEEKDAYS_9_TO_17 if rules is None else rules},
            key=self.key,
        )
        assert status == 200, body
        return created

    def settings(self, **fields: Any) -> None:
        status, body = self.api.call("PATCH", "/v1/admin/tenant", fields, key=self.key)
        assert status == 200, body

    # public ----------------------------------------------------------------------------
    def availability(
        self,
        service: dict[str, Any],
        start: str = MONDAY,
        end: str | None = None,
        timezone: str = ZONE,
        provider: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        query = f"start={start}&end={end or start}&timezone={timezone}"
        if provider is not None:
            query += f"&providerId={provider['id']}"
        return self.api.call(
            "GET", f"/v1/public/services/{service['id']}/availability?{query}", public_key=self.public_key
        )

    def slots(self, service: dict[str, Any], day: str = MONDAY, **kwargs: Any) -> dict[str, dict[str, Any]]:
        """start -> slot, for one day in New York."""
        status, body = self.availability(service, day, **kwargs)
        assert status == 200, body
        return {slot["start"]: slot for slot in body["slots"]}

    def booking(
        self, service: dict[str, Any], start: str, provider: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"serviceId": service["id"], "start": start, "client": client(), "intake": {}}
        if provider is not None:
            body["providerId"] = provider["id"]
        body.update(fields)
        return body

    def book(
        self, service: dict[str, Any], start: str, provider: dict[str, Any] | None = None, **fields: Any
    ) -> tuple[int, Any]:
        return self.api.call(
            "POST",
            "/v1/public/appointments",
            self.booking(service, start, provider, **fields),
            public_key=self.public_key,
        )

    def booked(
        self, service: dict[str, Any], start: str, provider: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Book and insist it worked: {appointment, manage}."""
        status, body = self.book(service, start, provider, **fields)
        assert status == 201, body
        return dict(body)

    def public(self, method: str, appointment_id: str, action: str = "", body: Any = None, token: str = "") -> Any:
        path = f"/v1/public/appointments/{appointment_id}" + (f"/{action}" if action else f"?token={token}")
        return self.api.call(method, path, body, public_key=self.public_key)

    # admin -----------------------------------------------------------------------------
    def admin(self, method: str, path: str = "", body: Any = None) -> tuple[int, Any]:
        return self.api.call(method, f"/v1/admin/appointments{path}", body, key=self.key)
