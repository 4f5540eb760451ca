"""JSON <-> domain for availability queries, booking requests and appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalicelib.api.parsing import FieldErrors, Reader
from chalicelib.domain.appointments import Appointment, ClientInfo
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slots import Slot, local_start
from chalicelib.domain.validation import calendar_date, is_timezone
from chalicelib.services.availability import MAX_RANGE_DAYS
from chalicelib.services.booking import BookingRequest, Cancelled
from chalicelib.services.refunds import AMOUNT, FULL, NONE, POLICY, RefundChoice

MAX_IDEMPOTENCY_KEY = 200


def parse_date_range(start: str | None, end: str | None, zone: str | None) -> tuple[date, date, str]:
    """`start..end` dates (inclusive, at most 62 days) in an IANA zone."""
    errors = FieldErrors()
    first = _date(start, "start", errors)
    last = _date(end, "end", errors)
    if zone is None:
        errors.add("timezone", "is required")
    elif not is_timezone(zone):
        errors.add("timezone", "must be an IANA timezone name, e.g. America/New_York")
    errors.raise_if_any()
    assert first is not None and last is not None and zone is not None
    if last < first:
        raise ValidationError("end must not be before start.", {"fields": {"end": "before start"}})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError(
            f"The range may span at most {MAX_RANGE_DAYS} days.",
            {"fields": {"end": f"more than {MAX_RANGE_DAYS} days after start"}},
        )
    return first, last, zone


def _date(text: str | None, name: str, errors: FieldErrors) -> date | None:
    if text is None:
        errors.add(name, "is required")
        return None
    day = calendar_date(text)
    if day is None:
        errors.add(name, "must be YYYY-MM-DD")
    return day


def parse_instant(reader: Reader, name: str) -> datetime | None:
    text = reader.string(name, max_length=40)
    if text is None:
        return None
    try:
        return from_iso(text)
    except ValueError:
        reader.errors.add(reader.at(name), "must be an ISO-8601 instant with an offset, e.g. 2027-03-14T14:00:00Z")
        return None


def parse_booking(body: dict[str, Any], *, allow_skip_payment: bool = False) -> BookingRequest:
    errors = FieldErrors()
    r = Reader(body, errors)
    service_id = r.string("serviceId", max_length=64)
    provider_id = r.string("providerId", required=False, max_length=64)
    start = parse_instant(r, "start")
    client = r.obj("client")
    name = client.string("name", max_length=120) if client else None
    email = client.email("email") if client else None
    phone = client.string("phone", required=False, max_length=32) if client else None
    zone = client.timezone("timezone") if client else None
    intake = r.obj("intake", required=False)
    payment = r.string("payment", required=False, max_length=10)
    if payment is not None and payment not in ("deposit", "full"):
        errors.add("payment", 'must be "deposit", "full" or null')
    key = r.string("idempotencyKey", required=False, max_length=MAX_IDEMPOTENCY_KEY)
    skip = r.boolean("skipPayment", required=False, default=False) if allow_skip_payment else False
    errors.raise_if_any()
    assert service_id and start and name and email and zone
    return BookingRequest(
        service_id=service_id,
        provider_id=provider_id,
        start=start,
        client=ClientInfo(name=name, email=email, phone=phone, timezone=zone),
        intake=dict(intake.data) if intake else {},
        payment=payment,
        idempotency_key=key,
        skip_payment=bool(skip),
    )


def parse_reschedule(body: dict[str, Any]) -> tuple[datetime, str | None]:
    errors = FieldErrors()
    r = Reader(body, errors)
    start = parse_instant(r, "start")
    provider_id = r.string("providerId", required=False, max_length=64)
    errors.raise_if_any()
    assert start is not None
    return start, provider_id


def parse_reason(body: dict[str, Any]) -> str | None:
    errors = FieldErrors()
    reason = Reader(body, errors).string("reason", required=False, max_length=500)
    errors.raise_if_any()
    return reason


def token_from(body: dict[str, Any]) -> str:
    errors = FieldErrors()
    token = Reader(body, errors).string("token", max_length=100)
    errors.raise_if_any()
    assert token is not None
    return token


def slot_json(slot: Slot, zone: str) -> dict[str, Any]:
    return {
        "start": to_iso(slot.start),
        "end": to_iso(slot.end),
        "localStart": local_start(slot.start, zone).isoformat(),
        "providerIds": list(slot.provider_ids),
        "seatsLeft": slot.seats_left if slot.seats_left is not None else 1,
    }


def appointment_json(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "serviceId": appointment.service_id,
        "serviceName": appointment.service_name,
        "providerId": appointment.provider_id,
        "status": appointment.status.value,
        "start": to_iso(appointment.start),
        "end": to_iso(appointment.end),
        "timezone": appointment.timezone,
        "client": {
            "name": appointment.client.name,
            "email": appointment.client.email,
            "phone": appointment.client.phone,
            "timezone": appointment.client.timezone,
        },
        "intake": appointment.intake,
        "priceCents": appointment.price_cents,
        "currency": appointment.currency,
        "amountDueNowCents": appointment.amount_due_now_cents,
        "amountPaidCents": appointment.amount_paid_cents,
        "amountRefundedCents": appointment.amount_refunded_cents,
        "paymentStatus": appointment.payment_status.value,
        "holdUntil": to_iso(appointment.hold_until) if appointment.hold_until else None,
        "cancelReason": appointment.cancel_reason,
        "createdAt": to_iso(appointment.created_at),
        "updatedAt": to_iso(appointment.updated_at),
        "version": appointment.version,
    }


def parse_refund_choice(body: dict[str, Any]) -> RefundChoice:
    """`refund`: "policy" (default) | "full" | "none" | {"amountCents": n}."""
    value = body.get("refund", POLICY)
    if value is None:
        return RefundChoice(POLICY)
    if isinstance(value, str) and value in (POLICY, FULL, NONE):
        return RefundChoice(value)
    if isinstance(value, dict):
        errors = FieldErrors()
        amount = Reader(value, errors, "refund").integer("amountCents", minimum=1, maximum=100_000_000)
        errors.raise_if_any()
        return RefundChoice(AMOUNT, amount)
    raise ValidationError(
        'refund must be "policy", "full", "none" or {"amountCents": n}.', {"fields": {"refund": "invalid"}}
    )


def cancelled_json(cancelled: Cancelled) -> dict[str, Any]:
    request = cancelled.refund
    refund: dict[str, Any] = {"amountCents": 0, "status": "none"}
    if request is not None:
        refund = {"id": request.id, "amountCents": request.amount_cents, "status": request.status.value}
    return {"appointment": appointment_json(cancelled.appointment), "refund": refund}
