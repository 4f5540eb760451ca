"""`/waitlist/{tenantSlug}`: join a waitlist from the booking page when no time suits.

The form asks what the JSON API's `POST /v1/public/waitlist` takes (service, provider or
anyone, one window on a date or every such weekday, contact and timezone) and is validated
by the same model, so the page and the API cannot disagree. The entry stays pending until
the mailed link confirms the email. CSRF is the waitlist pages' nonce cookie.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import status_for
from chalicelib.api.lazy import model_types, registry, waitlist_models
from chalicelib.domain.errors import DomainError, ValidationError
from chalicelib.domain.tenant import Tenant
from chalicelib.pages import security
from chalicelib.pages.common import day_or, form, route, tenant_by_slug, zone_or
from chalicelib.pages.render import page
from chalicelib.pages.waitlist import COOKIE, COOKIE_PATH
from chalicelib.pages.zones import zone_choices

bp = Blueprint(__name__)
CSRF_PURPOSE = "waitlist-join"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@route(bp, "/waitlist/{slug}", ["GET"])
def join_page(slug: str) -> Response:
    tenant = tenant_by_slug(slug)
    return _form(tenant, dict(bp.current_request.query_params or {}))


@route(bp, "/waitlist/{slug}", ["POST"])
def join(slug: str) -> Response:
    request = bp.current_request
    tenant = tenant_by_slug(slug)
    fields = form(request.raw_body)
    nonce = security.read_cookie(request.headers.get("cookie"), COOKIE)
    if not security.csrf_ok(CSRF_PURPOSE, nonce, fields.get("csrf")):
        return page(
            "message.html",
            403,
            title="Please try again",
            text="This form expired or was not sent from our page. Reload it and send it again.",
            tenant=tenant,
            next_link=f"/waitlist/{tenant.slug}",
        )
    day = _day(fields.get("date"))
    window: dict[str, Any] = {"start": fields.get("from", ""), "end": fields.get("to", "")}
    if fields.get("weekly") and day is not None:
        window["dayOfWeek"] = day.weekday()
    else:
        window["date"] = fields.get("date", "")
    body = {
        "serviceId": fields.get("service", ""),
        "providerId": fields.get("provider") or None,
        "windows": [window],
        "client": {
            "name": fields.get("name", ""),
            "email": fields.get("email", ""),
            "timezone": zone_or(fields.get("tz"), tenant.timezone),
            **({"phone": fields["phone"]} if fields.get("phone") else {}),
        },
    }
    try:
        joined = model_types.validated(waitlist_models.NewEntry, body).to_domain()
        registry.waitlist_service().join(tenant, joined)
    except ValidationError as error:
        return _form(tenant, fields, _field_problems(error), 400)
    except DomainError as error:  # 3 active entries for this email (409), an unknown service (404)...
        return _form(tenant, fields, {"form": error.message}, status_for(error))
    return page(
        "message.html",
        200,
        title="Check your mail",
        text=f"We sent a link to {fields.get('email', '')}. Open it to confirm your place on the waitlist: "
        "until then we cannot offer you a time.",
        tenant=tenant,
        next_link=f"/book/{tenant.slug}",
    )


def _form(tenant: Tenant, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> Response:
    services = registry.catalog_service().public_services(tenant.id)
    providers = {p.id: p for p in registry.catalog_service().list_providers(tenant.id) if p.active}
    offering = {s.id: [providers[i] for i in ids if i in providers] for s, ids in services}
    tz = zone_or(values.get("tz"), tenant.timezone)
    existing = security.read_cookie(bp.current_request.headers.get("cookie"), COOKIE)
    nonce = existing or security.new_nonce()
    cookies = [] if existing else [security.cookie(COOKIE, nonce, COOKIE_PATH, 2 * 3600)]
    return page(
        "waitlist_join.html",
        status,
        cookies=cookies,
        tenant=tenant,
        services=[s for s, _ in services],
        offering=offering,
        values=values,
        day=day_or(values.get("date"), tz),
        tz=tz,
        zones=zone_choices(tz),
        weekdays=WEEKDAYS,
        errors=errors or {},
        csrf=security.csrf_token(CSRF_PURPOSE, nonce),
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


# The form's names for the model's fields, so a problem shows next to its control.
_FIELD_NAMES = {
    "serviceId": "service",
    "providerId": "provider",
    "windows[0].date": "date",
    "windows[0].dayOfWeek": "date",
    "windows[0].start": "from",
    "windows[0].end": "to",
    "windows[0]": "to",
    "client.name": "name",
    "client.email": "email",
    "client.phone": "phone",
}


def _field_problems(error: ValidationError) -> dict[str, str]:
    found = {_FIELD_NAMES.get(str(k), "form"): str(v) for k, v in (error.details.get("fields") or {}).items()}
    return found or {"form": error.message}
