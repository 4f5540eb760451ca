"""`/manage/{appointmentId}`: the client's page for one booking (view, reschedule, cancel).

The mail's `?token=` is exchanged on first visit for the manage cookie and the page
redirects to a URL without it. Every post carries a CSRF token bound to that cookie.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.api.lazy import registry
from chalicelib.domain.appointments import Appointment, AppointmentStatus
from chalicelib.domain.errors import SlotUnavailableError
from chalicelib.domain.ics import CalendarEvent, ics_time, render_ics
from chalicelib.pages import security
from chalicelib.pages.common import day_or, form, gone_page, instant, message_page, route, zone_or
from chalicelib.pages.manage_cookie import clear_manage_cookie, manage_cookie, read_manage_cookie
from chalicelib.pages.render import page, redirect
from chalicelib.pages.zones import zone_choices

bp = Blueprint(__name__)
BASE = "/manage/{appointment_id}"


def _purpose(appointment_id: str) -> str:
    return f"manage:{appointment_id}"


def _session(appointment_id: str) -> tuple[str, str] | None:
    return read_manage_cookie(bp.current_request.headers.get("cookie"), appointment_id)


def _csrf(appointment_id: str, tenant_id: str, token: str) -> str:
    """The manage forms' CSRF token, bound to the manage cookie's value."""
    return security.csrf_token(_purpose(appointment_id), f"{tenant_id}.{token}")


def _posted(appointment_id: str) -> tuple[str, str, dict[str, str]] | Response:
    """(tenant id, token, form fields) of a manage form post, or the page refusing it."""
    session = _session(appointment_id)
    if session is None:
        return _no_session(appointment_id)
    tenant_id, token = session
    fields = form(bp.current_request.raw_body)
    if not security.csrf_ok(_purpose(appointment_id), f"{tenant_id}.{token}", fields.get("csrf")):
        return _csrf_refused(appointment_id)
    return tenant_id, token, fields


def _no_session(appointment_id: str) -> Response:
    return message_page(
        401,
        "Open the link from your mail",
        "For your security this page opens only from the link in the confirmation mail we sent you, "
        "and it stays open for 30 minutes. Open that link again to continue.",
    )


def _csrf_refused(appointment_id: str) -> Response:
    return message_page(
        403,
        "Please try again",
        "This form expired or was not sent from our page. Go back, reload the page and try again.",
        next_link=f"/manage/{appointment_id}",
    )


def google_link(appointment: Appointment, tenant_name: str) -> str:
    query = {
        "action": "TEMPLATE",
        "text": f"{appointment.service_name} with {tenant_name}",
        "dates": f"{ics_time(appointment.start)}/{ics_time(appointment.end)}",
        "details": f"Booked with {tenant_name}.",
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


@route(bp, BASE, ["GET"])
def manage_page(appointment_id: str) -> Response:
    request = bp.current_request
    query = dict(request.query_params or {})
    if "token" in query:  # the mail's link: check, move the token into the cookie, drop it from the URL
        tenant_id = query.get("t", "")
        registry.booking_service().view_with_token(tenant_id, appointment_id, query["token"])
        keep = {k: query[k] for k in ("paid",) if k in query}
        target = f"/manage/{appointment_id}" + (f"?{urlencode(keep)}" if keep else "")
        return redirect(target, [manage_cookie(appointment_id, tenant_id, query["token"])])
    session = _session(appointment_id)
    if session is None:
        return _no_session(appointment_id)
    tenant_id, token = session
    appointment = registry.booking_service().view_with_token(tenant_id, appointment_id, token)
    tenant = registry.tenant_repository().get(tenant_id)
    tz = zone_or(query.get("tz"), appointment.client.timezone)
    template = "manage.html"
    if appointment.status is AppointmentStatus.PENDING:
        template = "pending.html"
    slots = []
    day = day_or(query.get("date"), tz)
    choosing = "date" in query and appointment.status is AppointmentStatus.CONFIRMED
    if choosing:
        slots = registry.availability_service().slots(
            tenant, appointment.service_id, day, day, tz, appointment.provider_id
        )
    return page(
        template,
        tenant=tenant,
        appointment=appointment,
        tz=tz,
        zones=zone_choices(tz),
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        choosing=choosing,
        slots=[s for s in slots if s.start != appointment.start],
        paid=query.get("paid"),
        done=query.get("done"),
        error=query.get("error"),
        google_link=google_link(appointment, tenant.name),
        csrf=_csrf(appointment_id, tenant_id, token),
    )


@route(bp, BASE + "/return", ["GET"])
def checkout_return(appointment_id: str) -> Response:
    """Where Stripe Checkout sends the client back: a signed reference, never the manage token.
    With the manage cookie (booked on our page) the full manage page follows; without it (booked
    through the API, the embed, or a balance link) the booking's state, without actions."""
    from chalicelib.services.page_links import return_reference_ok

    query = dict(bp.current_request.query_params or {})
    tenant_id, paid = query.get("t", ""), query.get("paid", "")
    if not return_reference_ok(
        tenant_id, appointment_id, paid, query.get("exp", ""), query.get("sig", ""), registry.clock()
    ):
        return gone_page()
    session = _session(appointment_id)
    if session is not None and session[0] == tenant_id:
        return redirect(f"/manage/{appointment_id}?" + urlencode({"paid": paid}))
    appointment = registry.booking_service().get(tenant_id, appointment_id)
    tenant = registry.tenant_repository().get(tenant_id)
    return page(
        "returned.html",
        tenant=tenant,
        appointment=appointment,
        tz=appointment.client.timezone,
        paid=paid == "1",
        again=f"/manage/{appointment_id}/return?" + urlencode(query),
    )


@route(bp, BASE + "/reschedule", ["POST"])
def reschedule(appointment_id: str) -> Response:
    posted = _posted(appointment_id)
    if isinstance(posted, Response):
        return posted
    tenant_id, token, fields = posted
    start = instant(fields.get("start"))
    tz = zone_or(fields.get("tz"), "UTC")
    if start is None:
        return redirect(f"/manage/{appointment_id}?" + urlencode({"date": fields.get("date", ""), "tz": tz}))
    tenant = registry.tenant_repository().get(tenant_id)
    try:
        done = registry.booking_service().reschedule(tenant, appointment_id, start, None, token=token)
    except SlotUnavailableError:
        back = {"date": fields.get("date", ""), "tz": tz, "error": "taken"}
        return redirect(f"/manage/{appointment_id}?" + urlencode(back))
    return redirect(
        f"/manage/{appointment_id}?done=rescheduled", [manage_cookie(appointment_id, tenant_id, done.token)]
    )


@route(bp, BASE + "/cancel", ["GET"])
def cancel_page(appointment_id: str) -> Response:
    session = _session(appointment_id)
    if session is None:
        return _no_session(appointment_id)
    tenant_id, token = session
    service = registry.booking_service()
    appointment = service.view_with_token(tenant_id, appointment_id, token)
    refund = service.cancellation_refund(tenant_id, appointment_id, token)
    return page(
        "cancel.html",
        tenant=registry.tenant_repository().get(tenant_id),
        appointment=appointment,
        tz=appointment.client.timezone,
        refund_cents=refund,
        csrf=_csrf(appointment_id, tenant_id, token),
    )


@route(bp, BASE + "/cancel", ["POST"])
def cancel(appointment_id: str) -> Response:
    posted = _posted(appointment_id)
    if isinstance(posted, Response):
        return posted
    tenant_id, token, fields = posted
    reason = (fields.get("reason") or "").strip()[:500] or None
    done = registry.booking_service().cancel(tenant_id, appointment_id, reason, token=token)
    refund = done.refund.amount_cents if done.refund is not None else 0
    return page(
        "cancelled.html",
        tenant=registry.tenant_repository().get(tenant_id),
        appointment=done.appointment,
        tz=done.appointment.client.timezone,
        refund_cents=refund,
        cookies=[clear_manage_cookie(appointment_id)],
    )


@route(bp, BASE + "/calendar.ics", ["GET"])
def calendar_file(appointment_id: str) -> Response:
    session = _session(appointment_id)
    if session is None:
        return _no_session(appointment_id)
    tenant_id, token = session
    appointment = registry.booking_service().view_with_token(tenant_id, appointment_id, token)
    tenant = registry.tenant_repository().get(tenant_id)
    event = CalendarEvent(
        uid=f"{appointment.id}@{tenant.slug}.scheduling",
        sequence=appointment.version,
        start=appointment.start,
        end=appointment.end,
        stamp=appointment.updated_at,
        summary=f"{appointment.service_name} with {tenant.name}",
        description=f"Booked with {tenant.name}.",
        organizer_name=tenant.name,
        organizer_email=tenant.email,
        attendee_name=appointment.client.name,
        attendee_email=appointment.client.email,
        cancelled=appointment.status is AppointmentStatus.CANCELLED,
    )
    headers: dict[str, Any] = {
        **security.page_headers(),
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": 'attachment; filename="appointment.ics"',
    }
    return Response(body=render_ics(event), status_code=200, headers=headers)
