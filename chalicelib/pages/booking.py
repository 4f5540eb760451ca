"""`/book/{tenantSlug}`: service -> provider or anyone -> date -> time -> details -> book.

GET chooses (each step is a plain form), POST acts; the views call the same services as the
JSON API and render. The booking form is protected by a signed double-submit CSRF token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.lazy import appointment_models, model_types, registry
from chalicelib.domain.catalog import IntakeFieldType, Provider, Service
from chalicelib.domain.errors import DomainError, SlotUnavailableError, ValidationError
from chalicelib.domain.tenant import Tenant
from chalicelib.pages import security
from chalicelib.pages.common import day_or, form, instant, route, tenant_by_slug, zone_or
from chalicelib.pages.manage_cookie import manage_cookie
from chalicelib.pages.render import page, redirect
from chalicelib.pages.zones import zone_choices

bp = Blueprint(__name__)
CSRF_PURPOSE = "book"


def _catalog(tenant: Tenant) -> tuple[list[Service], dict[str, list[Provider]]]:
    listed = registry.catalog_service().public_services(tenant.id)
    providers = {p.id: p for p in registry.catalog_service().list_providers(tenant.id) if p.active}
    offering = {s.id: [providers[i] for i in ids if i in providers] for s, ids in listed}
    return [s for s, _ in listed], offering


def _nonce(request: Any) -> tuple[str, list[str]]:
    """The visitor's CSRF cookie value, set now if it has none."""
    existing = security.read_cookie(request.headers.get("cookie"), security.BOOKING_COOKIE)
    if existing:
        return existing, []
    nonce = security.new_nonce()
    return nonce, [security.cookie(security.BOOKING_COOKIE, nonce, "/book/", 2 * 3600)]


@route(bp, "/book/{slug}", ["GET"])
def booking_page(slug: str) -> Response:
    request = bp.current_request
    tenant = tenant_by_slug(slug)
    return _render(tenant, dict(request.query_params or {}), request)


def _render(
    tenant: Tenant, choice: dict[str, str], request: Any, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    services, offering = _catalog(tenant)
    tz = zone_or(choice.get("tz"), tenant.timezone)
    service = next((s for s in services if s.id == choice.get("service")), None)
    provider_id = choice.get("provider") or None
    if service is not None and provider_id not in {p.id for p in offering[service.id]}:
        provider_id = None
    day = day_or(choice.get("date"), tz)
    start = instant(choice.get("start"))
    slots = []
    if service is not None and start is None:
        slots = registry.availability_service().slots(tenant, service.id, day, day, tz, provider_id)
    nonce, cookies = _nonce(request)
    context: dict[str, Any] = dict(
        tenant=tenant,
        services=services,
        offering=offering,
        service=service,
        provider_id=provider_id or "",
        tz=tz,
        zones=zone_choices(tz),
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        slots=slots,
        start=start,
        values=choice,
        errors=errors or {},
        csrf=security.csrf_token(CSRF_PURPOSE, nonce),
        idempotency_key=choice.get("idempotencyKey") or security.new_nonce(),
        intake_types=IntakeFieldType,
    )
    return page("book.html", status, cookies=cookies, **context)


def _intake(service: Service, fields: dict[str, str]) -> dict[str, Any]:
    intake: dict[str, Any] = {}
    for field in service.intake_fields:
        raw = fields.get(f"intake.{field.id}")
        if field.type is IntakeFieldType.CHECKBOX:
            intake[field.id] = raw is not None
        elif field.type is IntakeFieldType.NUMBER and raw:
            try:
                intake[field.id] = float(raw) if "." in raw else int(raw)
            except ValueError:
                intake[field.id] = raw
        elif raw:
            intake[field.id] = raw
    return intake


@route(bp, "/book/{slug}", ["POST"])
def book(slug: str) -> Response:
    request = bp.current_request
    tenant = tenant_by_slug(slug)
    fields = form(request.raw_body)
    cookie_value = security.read_cookie(request.headers.get("cookie"), security.BOOKING_COOKIE)
    if not security.csrf_ok(CSRF_PURPOSE, cookie_value, fields.get("csrf")):
        return page(
            "message.html",
            403,
            title="Please try again",
            text="This form expired or was not sent from our page. Go back, reload the page and book again.",
            tenant=tenant,
            next_link=f"/book/{tenant.slug}",
        )
    services, _ = _catalog(tenant)
    service = next((s for s in services if s.id == fields.get("service")), None)
    if service is None:
        return _render(tenant, {}, request, {"service": "Choose a service."}, 400)
    body = {
        "serviceId": service.id,
        "start": fields.get("start", ""),
        "client": {
            "name": fields.get("name", ""),
            "email": fields.get("email", ""),
            "timezone": zone_or(fields.get("tz"), tenant.timezone),
            **({"phone": fields["phone"]} if fields.get("phone") else {}),
        },
        "intake": _intake(service, fields),
        "idempotencyKey": fields.get("idempotencyKey") or None,
        **({"providerId": fields["provider"]} if fields.get("provider") else {}),
    }
    try:
        done = registry.booking_service().book(
            tenant, model_types.validated(appointment_models.NewBooking, body).to_domain()
        )
    except SlotUnavailableError:
        retry = {k: v for k, v in fields.items() if k in ("service", "provider", "tz", "date")}
        return _render(tenant, retry, request, {"start": "Someone just took that time. Please choose another."}, 409)
    except (ValidationError, DomainError) as error:
        problems = {str(k): str(v) for k, v in (error.details.get("fields") or {}).items()}
        return _render(tenant, fields, request, problems or {"form": error.message}, 400 if problems else 422)
    cookies = [manage_cookie(done.appointment.id, tenant.id, done.token)]
    return redirect(done.checkout_url or f"/manage/{done.appointment.id}", cookies)


@route(bp, "/waitlist/{slug}", ["GET"])
def waitlist(slug: str) -> Response:
    tenant = tenant_by_slug(slug)
    return page(
        "message.html",
        200,
        title="Waiting list: not available yet",
        text=f"Joining a waiting list for {tenant.name} is not available yet. "
        "Please try another date, or contact the business directly.",
        tenant=tenant,
        next_link=f"/book/{tenant.slug}",
    )
