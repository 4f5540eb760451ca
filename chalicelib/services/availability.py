"""Open times of a service across every provider offering it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.slots import Slot, compute_slots
from chalicelib.domain.tenant import Tenant
from chalicelib.services.calendars import TenantViews

MAX_RANGE_DAYS = 62


class AvailabilityService:
    def __init__(self, views: TenantViews, clock: Callable[[], datetime]) -> None:
        self._views = views
        self._clock = clock

    def slots(
        self, tenant: Tenant, service_id: str, first: date, last: date, client_zone: str, provider_id: str | None = None
    ) -> list[Slot]:
        """Two DynamoDB reads whatever the window length or the number of providers."""
        view = self._views.for_dates(tenant, first, last, client_zone, self._clock())
        service = view.snapshot.services.get(service_id)
        if service is None or not service.active:
            raise NotFoundError("No such service.")
        providers = view.providers_for(service, provider_id)
        if provider_id is not None and not providers:
            raise NotFoundError("No such provider for this service.")
        calendars = [view.calendar(provider, service) for provider in providers]
        return compute_slots(view.spec(service), calendars, view.rules(), first, last, client_zone)
