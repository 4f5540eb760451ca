"""A tenant admin's view of appointments: list, manual booking and every state change."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.lazy import appointment_models, registry
from chalicelib.api.public_booking import booked, cancelled
from chalicelib.api.requests import page
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
APPOINTMENT = "/v1/admin/appointments/{appointment_id}"


@api_route(bp, "/v1/admin/appointments", "GET", auth="admin")
def list_appointments(caller: Caller, query: appointment_models.AppointmentQuery) -> appointment_models.AppointmentPage:
    """Appointments by start, filtered by status, provider and service (default: the coming 31 days)"""
    start, end = query.window(ZoneInfo(caller.tenant.timezone), registry.clock())
    found = [
        a
        for a in registry.booking_service().list(caller.tenant_id, start, end)
        if query.status in (None, a.status)
        and query.provider_id in (None, a.provider_id)
        and query.service_id in (None, a.service_id)
    ]
    return appointment_models.AppointmentPage.of(page(query, found, lambda a: f"{a.start.isoformat()}#{a.id}"))


@api_route(bp, "/v1/admin/appointments", "POST", auth="admin", status=201, errors=(404, 409, 422, 503))
def create_appointment(caller: Caller, body: appointment_models.AdminBooking) -> appointment_models.Booked:
    """Book for a client (skipPayment confirms without taking money)"""
    return booked(registry.booking_service().book(caller.tenant, body.to_domain()))


@api_route(bp, APPOINTMENT, "GET", auth="admin")
def get_appointment(caller: Caller, appointment_id: str) -> appointment_models.Appointment:
    """Read an appointment"""
    return appointment_models.Appointment.of(registry.booking_service().get(caller.tenant_id, appointment_id))


@api_route(bp, APPOINTMENT + "/cancel", "POST", auth="admin", errors=(409, 422, 503))
def cancel(caller: Caller, appointment_id: str, body: appointment_models.AdminCancel) -> appointment_models.Cancelled:
    """Cancel, refunding by the policy, fully, not at all or an amount"""
    service = registry.booking_service()
    return cancelled(service.cancel(caller.tenant_id, appointment_id, body.reason, refund=body.choice()))


@api_route(bp, APPOINTMENT + "/reschedule", "POST", auth="admin", errors=(409, 422))
def reschedule(caller: Caller, appointment_id: str, body: appointment_models.Reschedule) -> appointment_models.Booked:
    """Move to another start or provider; the client's link is replaced"""
    service = registry.booking_service()
    return booked(service.reschedule(caller.tenant, appointment_id, body.start, body.provider_id))


@api_route(bp, APPOINTMENT + "/complete", "POST", auth="admin", errors=(409,))
def complete(caller: Caller, appointment_id: str) -> appointment_models.Appointment:
    """Mark a started appointment completed"""
    return appointment_models.Appointment.of(registry.booking_service().complete(caller.tenant_id, appointment_id))


@api_route(bp, APPOINTMENT + "/no-show", "POST", auth="admin", errors=(409, 503))
def no_show(caller: Caller, appointment_id: str) -> appointment_models.NoShow:
    """Mark a started appointment a no-show and charge the service's no-show fee to the saved card"""
    appointment, fee = registry.payments().mark_no_show(caller.tenant, appointment_id)
    return appointment_models.NoShow.of(appointment, no_show_fee=fee)
