"""The waitlist's pages: the confirmation link and the offer link of the mails.

Opening a link changes nothing (mail scanners open links): each page shows a button that
posts the link's token with a CSRF token bound to a nonce cookie, as the booking form does.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.lazy import registry
from chalicelib.pages import security
from chalicelib.pages.common import form, message_page, route
from chalicelib.pages.manage_cookie import manage_cookie
from chalicelib.pages.render import page, redirect

bp = Blueprint(__name__)
COOKIE = "wl"
COOKIE_PATH = "/waitlist/"


def _nonce() -> tuple[str, list[str]]:
    existing = security.read_cookie(bp.current_request.headers.get("cookie"), COOKIE)
    if existing:
        return existing, []
    nonce = security.new_nonce()
    return nonce, [security.cookie(COOKIE, nonce, COOKIE_PATH, 2 * 3600)]


def _posted(purpose: str) -> dict[str, str] | Response:
    fields = form(bp.current_request.raw_body)
    nonce = security.read_cookie(bp.current_request.headers.get("cookie"), COOKIE)
    if not security.csrf_ok(purpose, nonce, fields.get("csrf")):
        return message_page(
            403,
            "Please try again",
            "This form expired or was not sent from our page. Open the link in your mail again.",
        )
    return fields


# API Gateway allows one variable name per path level, and `/waitlist/{slug}` (the join page)
# is already there: the entry id sits in a part named `slug`.
@route(bp, "/waitlist/{slug}/confirm", ["GET"])
def confirm_page(slug: str) -> Response:
    entry_id = slug
    query = dict(bp.current_request.query_params or {})
    tenant = registry.tenant_repository().get(query.get("t", ""))
    entry = registry.waitlist_service().get(tenant.id, entry_id)
    service = registry.catalog_repository().snapshot(tenant.id).services.get(entry.service_id)
    nonce, cookies = _nonce()
    return page(
        "waitlist_confirm.html",
        cookies=cookies,
        tenant=tenant,
        entry_id=entry.id,
        service_name=service.name if service else "Your service",
        token=query.get("token", ""),
        csrf=security.csrf_token(f"waitlist:{entry_id}", nonce),
    )


@route(bp, "/waitlist/{slug}/confirm", ["POST"])
def confirm_post(slug: str) -> Response:
    entry_id = slug
    fields = _posted(f"waitlist:{entry_id}")
    if isinstance(fields, Response):
        return fields
    registry.waitlist_service().confirm(fields.get("t", ""), entry_id, fields.get("token", ""))
    return message_page(200, "You are on the waitlist", "We will mail you as soon as a time you asked for frees up.")


@route(bp, "/waitlist/offers/{offer_id}", ["GET"])
def offer_page(offer_id: str) -> Response:
    query = dict(bp.current_request.query_params or {})
    tenant = registry.tenant_repository().get(query.get("t", ""))
    token = query.get("token", "")
    offer = registry.waitlist_offers().view(tenant.id, offer_id, token)
    entry = registry.waitlist_service().get(tenant.id, offer.entry_id)
    service = registry.catalog_repository().snapshot(tenant.id).services.get(offer.service_id)
    nonce, cookies = _nonce()
    return page(
        "waitlist_offer.html",
        cookies=cookies,
        tenant=tenant,
        offer=offer,
        tz=entry.client.timezone,
        service_name=service.name if service else "Your appointment",
        token=token,
        csrf=security.csrf_token(f"offer:{offer_id}", nonce),
    )


@route(bp, "/waitlist/offers/{offer_id}/accept", ["POST"])
def accept_post(offer_id: str) -> Response:
    fields = _posted(f"offer:{offer_id}")
    if isinstance(fields, Response):
        return fields
    tenant = registry.tenant_repository().get(fields.get("t", ""))
    done = registry.waitlist_offers().accept(tenant, offer_id, fields.get("token", ""), {})
    if done.checkout_url:
        return redirect(done.checkout_url)
    return redirect(f"/manage/{done.appointment.id}", [manage_cookie(done.appointment.id, tenant.id, done.token)])


@route(bp, "/waitlist/offers/{offer_id}/decline", ["POST"])
def decline_post(offer_id: str) -> Response:
    fields = _posted(f"offer:{offer_id}")
    if isinstance(fields, Response):
        return fields
    tenant = registry.tenant_repository().get(fields.get("t", ""))
    registry.waitlist_offers().decline(tenant, offer_id, fields.get("token", ""))
    return message_page(200, "Declined", "Thank you for letting us know. You stay on the waitlist for other times.")
