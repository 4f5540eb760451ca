"""`/book/{tenantSlug}`: service -> provider or anyone -> date -> time -> details -> book.

GET chooses (each step is a plain form), POST acts; the views call the same services as the
JSON API and render. The booking form is protected by a signed double-submit CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

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

if TYPE_CHECKING:
    from chalicelib.services.booking import Booked

bp = Blueprint(__name__)
CSRF_PURPOSE = "book"


@dataclass(frozen=True)
class Framing:
    """How the embedded booking page (`/embed/{slug}`) differs from `/book/{slug}`: its path, the
    parent origin it may post events to (None: it posts none), who may frame it, and its form
    token (not bound to a cookie: a cross-site frame may get none, see pages/embed.py)."""

    parent: str | None
    ancestors: str
    csrf: str
    issued: str


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
    return booking_form(tenant, dict(request.query_params or {}), request)


def booking_form(
    tenant: Tenant,
    choice: dict[str, str],
    request: Any,
    errors: dict[str, str] | None = None,
    status: int = 200,
    framing: Framing | None = None,
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
    if framing is None:
        nonce, cookies = _nonce(request)
        csrf = security.csrf_token(CSRF_PURPOSE, nonce)
    else:
        cookies, csrf = [], framing.csrf
    context: dict[str, Any] = dict(
        tenant=tenant,
        base=f"/embed/{tenant.slug}" if framing else f"/book/{tenant.slug}",
        framing=framing,
        keep="&" + urlencode({"parent": framing.parent}) if framing and framing.parent else "",
        services=services,
        offering=offering,
        service=service,
        provider_id=provider_id or "",
        tz=tz,
        tz_chosen=bool(choice.get("tz")),
        zones=zone_choices(tz),
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        slots=slots,
        start=start,
        values=choice,
        errors=errors or {},
        csrf=csrf,
        idempotency_key=choice.get("idempotencyKey") or security.new_nonce(),
        intake_types=IntakeFieldType,
    )
    ancestors = framing.ancestors if framing else "'none'"
    return page("book.html", status, ancestors=ancestors, cookies=cookies, **context)


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
        return form_refused(tenant, f"/book/{tenant.slug}")
    done = book_from_form(tenant, fields, request)
    if isinstance(done, Response):
        return done
    cookies = [manage_cookie(done.appointment.id, tenant.id, done.token)]
    return redirect(done.checkout_url or f"/manage/{done.appointment.id}", cookies)


def form_refused(tenant: Tenant, again: str, ancestors: str = "'none'") -> Response:
    return page(
        "message.html",
        403,
        ancestors=ancestors,
        title="Please try again",
        text="This form expired or was not sent from our page. Go back, reload the page and book again.",
        tenant=tenant,
        next_link=again,
    )


def book_from_form(
    tenant: Tenant, fields: dict[str, str], request: Any, framing: Framing | None = None
) -> Booked | Response:
    """Book what the (CSRF-checked) form asks for; the form again with its problems when it cannot."""
    services, _ = _catalog(tenant)
    service = next((s for s in services if s.id == fields.get("service")), None)
    if service is None:
        return booking_form(tenant, {}, request, {"service": "Choose a service."}, 400, framing)
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
        return registry.booking_service().book(
            tenant, model_types.validated(appointment_models.NewBooking, body).to_domain()
        )
    except SlotUnavailableError:
        retry = {k: v for k, v in fields.items() if k in ("service", "provider", "tz", "date")}
        taken = {"start": "Someone just took that time. Please choose another."}
        return booking_form(tenant, retry, request, taken, 409, framing)
    except (ValidationError, DomainError) as error:
        problems = {str(k): str(v) for k, v in (error.details.get("fields") or {}).items()}
        return booking_form(
            tenant, fields, request, problems or {"form": error.message}, 400 if problems else 422, framing
        )
