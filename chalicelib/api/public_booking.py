"""Public availability, booking and self-service (`X-Tenant-Key: pk_...` plus an action token)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import config
from chalicelib.api.appointment_models import (
    Appointment,
    Availability,
    AvailabilityQuery,
    Booked,
    Cancelled,
    CancelRefund,
    Manage,
    NewBooking,
    Slot,
    TokenCancel,
    TokenHeader,
    TokenQuery,
    TokenReschedule,
)
from chalicelib.api.routing import api_route
from chalicelib.domain.slots import local_start
from chalicelib.services import registry
from chalicelib.services.auth import Caller
from chalicelib.services.booking import Booked as BookedAppointment
from chalicelib.services.booking import Cancelled as CancelledAppointment

bp = Blueprint(__name__)
APPOINTMENT = "/v1/public/appointments/{appointment_id}"


def booked(done: BookedAppointment) -> Booked:
    """The appointment, its manage link and, when money is due now, the Checkout page."""
    url = f"{config.public_base_url()}/manage/{done.appointment.id}?t={done.appointment.tenant_id}&token={done.token}"
    return Booked.of(done, manage=Manage.of(dict(token=done.token, url=url)))


def cancelled(done: CancelledAppointment) -> Cancelled:
    request = done.refund
    refund = CancelRefund.of(dict(amount_cents=0, status="none"))
    if request is not None:
        refund = CancelRefund.of(dict(id=request.id, amount_cents=request.amount_cents, status=request.status.value))
    return Cancelled.of(dict(appointment=done.appointment, refund=refund))


@api_route(
    bp,
    "/v1/public/services/{service_id}/availability",
    "GET",
    auth="public",
    query=AvailabilityQuery,
    response=Availability,
)
def availability(caller: Caller, service_id: str, query: AvailabilityQuery) -> Availability:
    """Open starts between two local dates (inclusive, at most 62 days) in a timezone"""
    found = registry.availability_service().slots(
        caller.tenant, service_id, query.start, query.end, query.timezone, query.provider_id
    )
    slots = [
        Slot.of(s, local_start=local_start(s.start, query.timezone).isoformat(), seats_left=s.seats_left or 1)
        for s in found
    ]
    return Availability.of(dict(timezone=query.timezone, slots=slots))


@api_route(
    bp,
    "/v1/public/appointments",
    "POST",
    auth="public",
    status=201,
    body=NewBooking,
    response=Booked,
    errors=(404, 409, 422, 503),
)
def book(caller: Caller, body: NewBooking) -> Booked:
    """Book a start availability offers (409 slot_unavailable, 422 outside_availability or intake)"""
    return booked(registry.booking_service().book(caller.tenant, body.to_domain()))


@api_route(
    bp, APPOINTMENT, "GET", auth="public", query=TokenQuery, header=TokenHeader, response=Appointment, errors=(410,)
)
def get_appointment(caller: Caller, appointment_id: str, query: TokenQuery, header: TokenHeader) -> Appointment:
    """The appointment as its client may see it, with its action token"""
    token = header.token(query.token)
    return Appointment.of(registry.booking_service().view_with_token(caller.tenant_id, appointment_id, token))


@api_route(
    bp,
    APPOINTMENT + "/cancel",
    "POST",
    auth="public",
    body=TokenCancel,
    header=TokenHeader,
    response=Cancelled,
    errors=(409, 410),
)
def cancel(caller: Caller, appointment_id: str, body: TokenCancel, header: TokenHeader) -> Cancelled:
    """Cancel with the action token; the refund follows the cancellation policy"""
    token = header.token(body.token)
    return cancelled(registry.booking_service().cancel(caller.tenant_id, appointment_id, body.reason, token=token))


@api_route(
    bp,
    APPOINTMENT + "/reschedule",
    "POST",
    auth="public",
    body=TokenReschedule,
    header=TokenHeader,
    response=Booked,
    errors=(409, 410, 422),
)
def reschedule(caller: Caller, appointment_id: str, body: TokenReschedule, header: TokenHeader) -> Booked:
    """Move to another start (and provider) with the action token; answers a new token"""
    token = header.token(body.token)
    service = registry.booking_service()
    return booked(service.reschedule(caller.tenant, appointment_id, body.start, body.provider_id, token=token))
