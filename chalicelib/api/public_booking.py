"""Public availability, booking and self-service (`X-Tenant-Key: pk_...` plus an action token)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import config
from chalicelib.api.lazy import appointment_models, registry, slots
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller
    from chalicelib.services.booking import Booked as BookedAppointment
    from chalicelib.services.booking import Cancelled as CancelledAppointment

bp = Blueprint(__name__)
APPOINTMENT = "/v1/public/appointments/{appointment_id}"


def booked(done: BookedAppointment) -> appointment_models.Booked:
    """The appointment, its manage link and, when money is due now, the Checkout page."""
    url = f"{config.public_base_url()}/manage/{done.appointment.id}?t={done.appointment.tenant_id}&token={done.token}"
    return appointment_models.Booked.of(done, manage=appointment_models.Manage.of(dict(token=done.token, url=url)))


def cancelled(done: CancelledAppointment) -> appointment_models.Cancelled:
    request = done.refund
    refund = appointment_models.CancelRefund.of(dict(amount_cents=0, status="none"))
    if request is not None:
        refund = appointment_models.CancelRefund.of(
            dict(id=request.id, amount_cents=request.amount_cents, status=request.status.value)
        )
    return appointment_models.Cancelled.of(dict(appointment=done.appointment, refund=refund))


@api_route(bp, "/v1/public/services/{service_id}/availability", "GET", auth="public")
def availability(
    caller: Caller, service_id: str, query: appointment_models.AvailabilityQuery
) -> appointment_models.Availability:
    """Open starts between two local dates (inclusive, at most 62 days) in a timezone"""
    found = registry.availability_service().slots(
        caller.tenant, service_id, query.start, query.end, query.timezone, query.provider_id
    )
    offered = [
        appointment_models.Slot.of(
            s, local_start=slots.local_start(s.start, query.timezone).isoformat(), seats_left=s.seats_left or 1
        )
        for s in found
    ]
    return appointment_models.Availability.of(dict(timezone=query.timezone, slots=offered))


@api_route(bp, "/v1/public/appointments", "POST", auth="public", status=201, errors=(404, 409, 422, 503))
def book(caller: Caller, body: appointment_models.NewBooking) -> appointment_models.Booked:
    """Book a start availability offers (409 slot_unavailable, 422 outside_availability or intake)"""
    return booked(registry.booking_service().book(caller.tenant, body.to_domain()))


@api_route(bp, APPOINTMENT, "GET", auth="public", errors=(410,))
def get_appointment(
    caller: Caller, appointment_id: str, query: appointment_models.TokenQuery, header: appointment_models.TokenHeader
) -> appointment_models.Appointment:
    """The appointment as its client may see it, with its action token"""
    token = header.token(query.token)
    return appointment_models.Appointment.of(
        registry.booking_service().view_with_token(caller.tenant_id, appointment_id, token)
    )


@api_route(bp, APPOINTMENT + "/cancel", "POST", auth="public", errors=(409, 410))
def cancel(
    caller: Caller, appointment_id: str, body: appointment_models.TokenCancel, header: appointment_models.TokenHeader
) -> appointment_models.Cancelled:
    """Cancel with the action token; the refund follows the cancellation policy"""
    token = header.token(body.token)
    return cancelled(registry.booking_service().cancel(caller.tenant_id, appointment_id, body.reason, token=token))


@api_route(bp, APPOINTMENT + "/reschedule", "POST", auth="public", errors=(409, 410, 422))
def reschedule(
    caller: Caller,
    appointment_id: str,
    body: appointment_models.TokenReschedule,
    header: appointment_models.TokenHeader,
) -> appointment_models.Booked:
    """Move to another start (and provider) with the action token; answers a new token"""
    token = header.token(body.token)
    service = registry.booking_service()
    return booked(service.reschedule(caller.tenant, appointment_id, body.start, body.provider_id, token=token))
