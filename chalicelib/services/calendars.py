"""Turning the stored catalog and occupancy into the slot engine's inputs.

Availability and booking both build their view of a tenant from the same two reads (the
catalog partition and the occupancy index), so a start is offered exactly when a booking
at it would be accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.appointments import Appointment
from chalicelib.domain.calendar_sync import BusyBlock
from chalicelib.domain.catalog import Provider, Service
from chalicelib.domain.slots import BookingRules, Occupancy, ProviderCalendar, ServiceSpec
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.windows import DateOverride as EngineOverride
from chalicelib.domain.windows import WeeklyRule
from chalicelib.store.appointments import AppointmentRepository, TransactionPart
from chalicelib.store.calendar_connections import CalendarRepository
from chalicelib.store.catalog import CatalogRepository, CatalogSnapshot


def weekly_rules(snapshot: CatalogSnapshot, provider_id: str) -> tuple[WeeklyRule, ...]:
    """A provider's stored weekly rules as the slot engine reads them."""
    availability = snapshot.rules.get(provider_id)
    return tuple(
        WeeklyRule(r.day_of_week, r.start, r.end, frozenset(r.service_ids) if r.service_ids is not None else None)
        for r in (availability.rules if availability else ())
    )


def date_overrides(snapshot: CatalogSnapshot, provider_id: str) -> dict[date, EngineOverride]:
    """A provider's stored date overrides as the slot engine reads them."""
    return {
        o.date: EngineOverride(o.date, tuple((t.start, t.end) for t in o.intervals))
        for o in snapshot.overrides.get(provider_id, [])
    }


@dataclass(frozen=True)
class TenantView:
    """One tenant's catalog plus every active appointment around a time range."""

    tenant: Tenant
    snapshot: CatalogSnapshot
    appointments: list[Appointment]
    now: datetime
    busy: tuple[BusyBlock, ...] = ()  # external busy time synced from providers' calendars
    busy_versions: Mapping[str, int] | None = None  # read before `busy` when the view is for booking

    def provider_zone(self, provider: Provider) -> str:
        return provider.timezone or self.tenant.timezone

    def spec(self, service: Service) -> ServiceSpec:
        return ServiceSpec(
            service_id=service.id,
            duration_minutes=service.duration_minutes,
            buffer_before_minutes=service.buffer_before_minutes,
            buffer_after_minutes=service.buffer_after_minutes,
            interval_minutes=service.slot_interval_minutes or self.tenant.slot_interval_minutes,
            capacity=service.capacity,
        )

    def rules(self) -> BookingRules:
        return BookingRules(self.now, self.tenant.min_notice_minutes, self.tenant.max_advance_days)

    def providers_for(self, service: Service, provider_id: str | None = None) -> list[Provider]:
        return sorted(
            (
                p
                for p in self.snapshot.providers.values()
                if p.offers(service.id) and (provider_id is None or p.id == provider_id)
            ),
            key=lambda p: p.id,
        )

    def calendar(self, provider: Provider, service: Service) -> ProviderCalendar:
        rules, overrides = weekly_rules(self.snapshot, provider.id), date_overrides(self.snapshot, provider.id)
        occupied: list[Occupancy] = []
        seats: Counter[datetime] = Counter()
        for appointment in self.appointments:
            if appointment.provider_id != provider.id or not appointment.holds_time(self.now):
                continue
            start, end = appointment.occupied
            session = (appointment.service_id, appointment.start) if appointment.is_group else None
            occupied.append(Occupancy(start, end, session))
            if appointment.is_group and appointment.service_id == service.id:
                seats[appointment.start] += 1
        occupied.extend(Occupancy(b.start, b.end, None) for b in self.busy if b.provider_id == provider.id)
        return ProviderCalendar(
            provider.id, self.provider_zone(provider), rules, overrides, tuple(occupied), dict(seats)
        )

    def bookings_on(self, provider: Provider, day: date) -> int:
        zone = ZoneInfo(self.provider_zone(provider))
        return sum(
            1
            for a in self.appointments
            if a.provider_id == provider.id and a.is_active(self.now) and a.start.astimezone(zone).date() == day
        )

    def last_assigned(self) -> dict[str, datetime]:
        latest: dict[str, datetime] = {}
        for a in self.appointments:
            if a.provider_id not in latest or a.created_at > latest[a.provider_id]:
                latest[a.provider_id] = a.created_at
        return latest


class TenantViews:
    """Builds a TenantView with three reads: the catalog partition, the occupancy index and the
    tenant's synced busy time (one query of its busy partition)."""

    def __init__(
        self, catalog: CatalogRepository, appointments: AppointmentRepository, busy: CalendarRepository | None = None
    ) -> None:
        self._catalog = catalog
        self._appointments = appointments
        self._busy = busy

    def around(
        self, tenant: Tenant, start: datetime, end: datetime, now: datetime, for_booking: bool = False
    ) -> TenantView:
        """`for_booking` also reads the busy versions (first), so `busy_guard` can hold them."""
        snapshot = self._catalog.snapshot(tenant.id)
        active = self._appointments.occupancy(tenant.id, start, end)
        if self._busy is None:
            return TenantView(tenant, snapshot, active, now)
        versions = self._busy.busy_versions(tenant.id) if for_booking else None
        busy = tuple(self._busy.busy_between(tenant.id, start, end))
        return TenantView(tenant, snapshot, active, now, busy, versions)

    def busy_guard(self, view: TenantView, provider_id: str) -> TransactionPart | None:
        """A condition for the booking's transaction: the provider's synced busy time is still the
        one this view read (None: no calendar sync here, or a view not read for booking)."""
        if self._busy is None or view.busy_versions is None:
            return None
        return self._busy.busy_guard(view.tenant.id, provider_id, view.busy_versions.get(provider_id, 0))

    def for_dates(self, tenant: Tenant, first: date, last: date, zone: str, now: datetime) -> TenantView:
        """Covers [first, last] in `zone` with two days of margin for providers in other zones."""
        tz = ZoneInfo(zone)
        start = datetime.combine(first - timedelta(days=2), time(0), tz)
        end = datetime.combine(last + timedelta(days=3), time(0), tz)
        return self.around(tenant, start, end, now)
