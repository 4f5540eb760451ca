"""The waitlist's routes: clients join, confirm and answer offers; the business lists, flags,
removes entries and releases a time to the waitlist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import appointment_models, registry, waitlist_models
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
PUBLIC = "/v1/public/waitlist"
OFFER = PUBLIC + "/offers/{offer_id}"
ADMIN = "/v1/admin/waitlist"


@api_route(bp, PUBLIC, "POST", auth="public", status=201, errors=(404, 409, 422))
def join_waitlist(caller: Caller, body: waitlist_models.NewEntry) -> waitlist_models.EntryBox:
    """Join the waitlist (pending until the email is confirmed through the mailed link)"""
    entry = registry.waitlist_service().join(caller.tenant, body.to_domain())
    return waitlist_models.EntryBox.of({"entry": entry})


@api_route(bp, PUBLIC + "/{entry_id}/confirm", "POST", auth="public", errors=(409, 410))
def confirm_entry(caller: Caller, entry_id: str, body: waitlist_models.ConfirmEntry) -> waitlist_models.EntryBox:
    """Confirm the email with the link's token: the entry becomes active (at most 3 per email)"""
    entry = registry.waitlist_service().confirm(caller.tenant_id, entry_id, body.token)
    return waitlist_models.EntryBox.of({"entry": entry})


@api_route(bp, OFFER, "GET", auth="public", errors=(410,))
def get_offer(caller: Caller, offer_id: str, query: waitlist_models.OfferTokenQuery) -> waitlist_models.OfferBox:
    """An open offer, with the time it is held until (410 once answered or expired)"""
    offer = registry.waitlist_offers().view(caller.tenant_id, offer_id, query.token)
    return waitlist_models.OfferBox.of({"offer": waitlist_models.Offer.of_offer(offer)})


@api_route(bp, OFFER + "/accept", "POST", auth="public", status=201, errors=(409, 410, 422, 503))
def accept_offer(caller: Caller, offer_id: str, body: waitlist_models.AcceptOffer) -> appointment_models.Booked:
    """Book the offered time (Checkout when the service takes money up front)"""
    from chalicelib.api.public_booking import booked

    return booked(registry.waitlist_offers().accept(caller.tenant, offer_id, body.token, body.intake))


@api_route(bp, OFFER + "/decline", "POST", auth="public", errors=(410,))
def decline_offer(caller: Caller, offer_id: str, body: waitlist_models.AnswerOffer) -> waitlist_models.OfferBox:
    """Decline: the time is offered to the next entry, or returns to availability"""
    offer = registry.waitlist_offers().decline(caller.tenant, offer_id, body.token)
    return waitlist_models.OfferBox.of({"offer": waitlist_models.Offer.of_offer(offer)})


@api_route(bp, ADMIN, "GET", auth="admin")
def list_waitlist(caller: Caller, query: waitlist_models.EntryQuery) -> waitlist_models.EntryPage:
    """Waitlist entries in join order"""
    found, cursor = registry.waitlist_service().page(
        caller.tenant_id, query.status, query.service_id, query.limit, query.cursor
    )
    return waitlist_models.EntryPage.of({"items": found, "next_cursor": cursor})


@api_route(bp, ADMIN + "/{entry_id}", "PATCH", auth="admin", errors=(409,))
def patch_entry(caller: Caller, entry_id: str, body: waitlist_models.EntryPatch) -> waitlist_models.Entry:
    """Mark or unmark an entry as VIP"""
    return waitlist_models.Entry.of(registry.waitlist_service().set_vip(caller.tenant_id, entry_id, body.vip))


@api_route(bp, ADMIN + "/{entry_id}", "DELETE", auth="admin", errors=(409,))
def remove_entry(caller: Caller, entry_id: str, body: waitlist_models.EntryRemoval) -> waitlist_models.Entry:
    """Remove an entry, with a reason (it gets no more offers)"""
    return waitlist_models.Entry.of(registry.waitlist_service().remove(caller.tenant_id, entry_id, body.reason))


@api_route(bp, "/v1/admin/slots/release", "POST", auth="admin", errors=(404, 409))
def release_slot(caller: Caller, body: waitlist_models.Release) -> waitlist_models.Released:
    """Offer a free time to the waitlist now"""
    outcome = registry.waitlist_offers().release(caller.tenant, body.provider_id, body.service_id, body.start)
    return waitlist_models.Released.of({"outcome": outcome})
