"""A tenant admin's view of appointments: list, manual booking and every state change."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.appointment_schema import (
    appointment_json,
    cancelled_json,
    parse_booking,
    parse_reason,
    parse_refund_choice,
    parse_reschedule,
)
from chalicelib.api.clock_params import instant_or_date
from chalicelib.api.public_booking import booked_json, manage
from chalicelib.api.requests import admin_caller, json_body, page, query
from chalicelib.api.routing import api_route
from chalicelib.domain.appointments import AppointmentStatus
from chalicelib.domain.errors import ValidationError
from chalicelib.services import registry

bp = Blueprint(__name__)
MAX_LIST_DAYS = 366


@api_route(bp, "/v1/admin/appointments", "GET")
def list_appointments() -> dict[str, Any]:
    caller = admin_caller(bp)
    zone = ZoneInfo(caller.tenant.timezone)
    now = registry.clock()
    start = instant_or_date(query(bp, "from"), "from", zone) or datetime.combine(
        now.astimezone(zone).date(), time(0), zone
    )
    end = instant_or_date(query(bp, "to"), "to", zone, end_of_day=True) or start + timedelta(days=31)
    if end <= start or end - start > timedelta(days=MAX_LIST_DAYS):
        raise ValidationError("to must not be before from, at most 366 days later.", {"fields": {"to": "out of range"}})
    status = query(bp, "status")
    if status is not None and status not in {s.value for s in AppointmentStatus}:
        raise ValidationError("Unknown status.", {"fields": {"status": "unknown"}})
    provider_id, service_id = query(bp, "providerId"), query(bp, "serviceId")
    found = [
        a
        for a in registry.booking_service().list(caller.tenant_id, start, end)
        if (status is None or a.status.value == status)
        and (provider_id is None or a.provider_id == provider_id)
        and (service_id is None or a.service_id == service_id)
    ]
    return page(bp, found, lambda a: f"{a.start.isoformat()}#{a.id}", appointment_json)


@api_route(bp, "/v1/admin/appointments", "POST", status=201)
def create_appointment() -> dict[str, Any]:
    caller = admin_caller(bp)
    booked = registry.booking_service().book(caller.tenant, parse_booking(json_body(bp), allow_skip_payment=True))
    return booked_json(booked)


@api_route(bp, "/v1/admin/appointments/{appointment_id}", "GET")
def get_appointment(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    return appointment_json(registry.booking_service().get(caller.tenant_id, appointment_id))


@api_route(bp, "/v1/admin/appointments/{appointment_id}/cancel", "POST")
def cancel(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    body = json_body(bp)
    reason, choice = parse_reason(body), parse_refund_choice(body)
    cancelled = registry.booking_service().cancel(caller.tenant_id, appointment_id, reason, refund=choice)
    return cancelled_json(cancelled)


@api_route(bp, "/v1/admin/appointments/{appointment_id}/reschedule", "POST")
def reschedule(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    start, provider_id = parse_reschedule(json_body(bp))
    moved = registry.booking_service().reschedule(caller.tenant, appointment_id, start, provider_id)
    return {"appointment": appointment_json(moved.appointment), "manage": manage(moved.appointment.id, moved.token)}


@api_route(bp, "/v1/admin/appointments/{appointment_id}/complete", "POST")
def complete(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    return appointment_json(registry.booking_service().complete(caller.tenant_id, appointment_id))


@api_route(bp, "/v1/admin/appointments/{appointment_id}/no-show", "POST")
def no_show(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    appointment, fee = registry.payments().mark_no_show(caller.tenant, appointment_id)
    return {**appointment_json(appointment), "noShowFee": fee}
