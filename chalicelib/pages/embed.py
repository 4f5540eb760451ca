"""`/embed/{tenantSlug}`: the booking page made to be framed by the tenant's own site.

Only here may a page be framed: `frame-ancestors` lists the tenant's `allowedOrigins` (none
listed: `'none'`, as everywhere else) and there is no `X-Frame-Options`. The frame uses no
cookie: inside a cross-site frame browsers may withhold every cookie (Safari always does,
Chrome when third-party cookies are off), so a design that needed `SameSite=None` cookies
would break there. Instead:
- the booking form's CSRF token is signed over the tenant and the moment the form was made
  (valid 2 hours), and a post must not come from another site (`Sec-Fetch-Site`, else
  `Origin` when the browser sends a real one). Nothing ambient rides on the post, so a
  forged one could only do what anyone can do with the form itself;
- the result is rendered in the frame (no redirect to the cookie-bound manage page): the
  confirmation, or the way to Checkout in the top window (Stripe refuses to be framed),
  whose return page needs no cookie (`/manage/{id}/return`, a signed reference);
- the client manages the booking from the link in the confirmation mail, top level.
The frame posts events (`scheduling:height`, `scheduling:booked`) only to the parent origin
named by `?parent=` and only when that origin is allowed (`static/embed-frame.js`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api.lazy import registry
from chalicelib.domain.origins import allowed_origin
from chalicelib.domain.tenant import Tenant
from chalicelib.pages import security
from chalicelib.pages.booking import Framing, book_from_form, booking_form, form_refused
from chalicelib.pages.common import form, route, tenant_by_slug
from chalicelib.pages.manage import google_link
from chalicelib.pages.render import page

bp = Blueprint(__name__)
FORM_LIFETIME = timedelta(hours=2)
CLOCK_SKEW = timedelta(minutes=5)


def frame_ancestors(tenant: Tenant) -> str:
    return " ".join(tenant.allowed_origins) or "'none'"


def _purpose(tenant: Tenant) -> str:
    return f"embed:{tenant.id}"


def _framing(tenant: Tenant, parent: str | None, issued: str | None = None) -> Framing:
    issued = issued or str(int(registry.clock().timestamp()))
    return Framing(
        parent=allowed_origin(parent, tenant.allowed_origins),
        ancestors=frame_ancestors(tenant),
        csrf=security.csrf_token(_purpose(tenant), issued),
        issued=issued,
    )


def own_origin() -> str:
    parts = urlsplit(config.public_base_url())
    return f"{parts.scheme}://{parts.netloc}"


def post_allowed(tenant: Tenant, headers: Mapping[str, str], fields: dict[str, str]) -> bool:
    """The embedded form's post: our signed, unexpired token, and not sent from another site."""
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = headers.get("origin")
    if site is None and origin not in (None, "null") and origin != own_origin():
        return False
    issued = fields.get("issued", "")
    if not issued.isdigit() or not security.csrf_ok(_purpose(tenant), issued, fields.get("csrf")):
        return False
    age = registry.clock().timestamp() - int(issued)
    return -CLOCK_SKEW.total_seconds() <= age <= FORM_LIFETIME.total_seconds()


@route(bp, "/embed/{slug}", ["GET"])
def embedded_booking_page(slug: str) -> Response:
    request = bp.current_request
    tenant = tenant_by_slug(slug)
    query = dict(request.query_params or {})
    return booking_form(tenant, query, request, framing=_framing(tenant, query.get("parent")))


@route(bp, "/embed/{slug}", ["POST"])
def embedded_book(slug: str) -> Response:
    request = bp.current_request
    tenant = tenant_by_slug(slug)
    fields = form(request.raw_body)
    framing = _framing(tenant, fields.get("parent"))
    if not post_allowed(tenant, request.headers, fields):
        return form_refused(tenant, f"/embed/{tenant.slug}", framing.ancestors)
    done = book_from_form(tenant, fields, request, framing)
    if isinstance(done, Response):
        return done
    appointment = done.appointment
    return page(
        "embed_done.html",
        ancestors=framing.ancestors,
        tenant=tenant,
        framing=framing,
        appointment=appointment,
        tz=appointment.client.timezone,
        checkout_url=done.checkout_url,
        google_link=google_link(appointment, tenant.name),
    )
