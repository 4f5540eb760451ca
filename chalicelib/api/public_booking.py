"""Public availability, booking and self-service (`X-Tenant-Key: pk_...` plus an action token)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import config
from chalicelib.api.appointment_schema import (
    appointment_json,
    cancelled_json,
    parse_booking,
    parse_date_range,
    parse_reason,
    parse_reschedule,
    slot_json,
    token_from,
)
from chalicelib.api.requests import json_body, public_caller, query
from chalicelib.api.routing import api_route
from chalicelib.services import registry
from chalicelib.services.booking import Booked

bp = Blueprint(__name__)


def manage(appointment_id: str, token: str) -> dict[str, str]:
    return {"token": token, "url": f"{config.public_base_url()}/manage/{appointment_id}?token={token}"}


def booked_json(booked: Booked) -> dict[str, Any]:
    """201 body of a booking: the appointment, its manage link and, when money is due, the Checkout page."""
    body: dict[str, Any] = {
        "appointment": appointment_json(booked.appointment),
        "manage": manage(booked.appointment.id, booked.token),
    }
    if booked.checkout_url:
        body["checkoutUrl"] = booked.checkout_url
    return body


@api_route(bp, "/v1/public/services/{service_id}/availability", "GET")
def availability(service_id: str) -> dict[str, Any]:
    caller = public_caller(bp)
    first, last, zone = parse_date_range(query(bp, "start"), query(bp, "end"), query(bp, "timezone"))
    slots = registry.availability_service().slots(caller.tenant, service_id, first, last, zone, query(bp, "providerId"))
    return {"timezone": zone, "slots": [slot_json(slot, zone) for slot in slots]}


@api_route(bp, "/v1/public/appointments", "POST", status=201)
def book() -> dict[str, Any]:
    caller = public_caller(bp)
    booked = registry.booking_service().book(caller.tenant, parse_booking(json_body(bp)))
    return booked_json(booked)


@api_route(bp, "/v1/public/appointments/{appointment_id}", "GET")
def get_appointment(appointment_id: str) -> dict[str, Any]:
    caller = public_caller(bp)
    token = token_from({"token": query(bp, "token")})
    return appointment_json(registry.booking_service().view_with_token(caller.tenant_id, appointment_id, token))


@api_route(bp, "/v1/public/appointments/{appointment_id}/cancel", "POST")
def cancel(appointment_id: str) -> dict[str, Any]:
    caller = public_caller(bp)
    body = json_body(bp)
    token, reason = token_from(body), parse_reason(body)
    cancelled = registry.booking_service().cancel(caller.tenant_id, appointment_id, reason, token=token)
    return cancelled_json(cancelled)


@api_route(bp, "/v1/public/appointments/{appointment_id}/reschedule", "POST")
def reschedule(appointment_id: str) -> dict[str, Any]:
    caller = public_caller(bp)
    body = json_body(bp)
    token = token_from(body)
    start, provider_id = parse_reschedule(body)
    moved = registry.booking_service().reschedule(caller.tenant, appointment_id, start, provider_id, token=token)
    return {"appointment": appointment_json(moved.appointment), "manage": manage(moved.appointment.id, moved.token)}
