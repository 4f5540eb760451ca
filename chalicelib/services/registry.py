"""Lazily built service objects, one per process (warm Lambdas reuse them).

Built on first use, never at import, so configuration is read when it is there; tests
swap the clock or reset everything between cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.domain.clock import utc_now
from chalicelib.services.auth import Authenticator
from chalicelib.services.availability import AvailabilityService
from chalicelib.services.booking import BookingService
from chalicelib.services.calendars import TenantViews
from chalicelib.services.catalog import CatalogService
from chalicelib.services.tenants import TenantService
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.tenants import TenantRepository

T = TypeVar("T")
_instances: dict[str, Any] = {}
_clock: list[Callable[[], datetime]] = [utc_now]


def clock() -> datetime:
    return _clock[0]()


def set_clock(new_clock: Callable[[], datetime]) -> None:
    _clock[0] = new_clock


def reset() -> None:
    _instances.clear()
    _clock[0] = utc_now


def _once(name: str, build: Callable[[], T]) -> T:
    if name not in _instances:
        _instances[name] = build()
    instance: T = _instances[name]
    return instance


def tenant_repository() -> TenantRepository:
    return _once("tenant_repository", TenantRepository)


def catalog_repository() -> CatalogRepository:
    return _once("catalog_repository", CatalogRepository)


def authenticator() -> Authenticator:
    return _once("authenticator", lambda: Authenticator(tenant_repository()))


def tenant_service() -> TenantService:
    return _once("tenant_service", lambda: TenantService(tenant_repository(), clock))


def catalog_service() -> CatalogService:
    return _once("catalog_service", lambda: CatalogService(catalog_repository(), clock))


def appointment_repository() -> AppointmentRepository:
    return _once("appointment_repository", AppointmentRepository)


def tenant_views() -> TenantViews:
    return _once("tenant_views", lambda: TenantViews(catalog_repository(), appointment_repository()))


def availability_service() -> AvailabilityService:
    return _once("availability_service", lambda: AvailabilityService(tenant_views(), clock))


def booking_service() -> BookingService:
    return _once("booking_service", lambda: BookingService(tenant_views(), appointment_repository(), clock))
