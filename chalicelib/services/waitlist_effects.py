"""What the stream implies for the waitlist, each effect once through the effect ledger:
- an appointment cancelled, expired or moved away frees its time: the round of offers starts;
- a booking (or a move) by an entry's email for a time its windows hold retires the entry;
- a new entry gets its confirmation mail; an offer that opens gets its mail and its expiry
  schedule; an offer declined or expired moves its round on (the request that closed it did
  so already: this is the net under a crash between the two).

Tokens are minted when their mail is written and only their hash is stored, so a link is
never kept in clear anywhere but in the mail.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import config
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.credentials import hash_secret
from chalicelib.domain.waitlist import HOLDING_OFFERS, OfferStatus, WaitlistEntry, WaitlistOffer
from chalicelib.gateways.mail import MailGateway, MailRejectedError, OutgoingMail
from chalicelib.observability import logger
from chalicelib.services.mail_content import DocumentMail, render_document_mail
from chalicelib.services.mime import build_message
from chalicelib.services.notifications import local_when, mail_from
from chalicelib.services.waitlist import WaitlistService
from chalicelib.services.waitlist_offers import WaitlistOffers
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.effects import EffectLedger
from chalicelib.store.stream import TableChange
from chalicelib.store.suppressions import SuppressionRepository
from chalicelib.store.tenants import TenantRepository
from chalicelib.store.waitlist import WaitlistRepository

TOKEN_BYTES = 32
FREEING = {"cancelled": "cancellation", "expired": "expired_hold"}


def confirm_url(tenant_id: str, entry_id: str, token: str) -> str:
    return f"{config.public_base_url()}/waitlist/{entry_id}/confirm?t={tenant_id}&token={token}"


def offer_url(tenant_id: str, offer_id: str, token: str) -> str:
    return f"{config.public_base_url()}/waitlist/offers/{offer_id}?t={tenant_id}&token={token}"


def windows_text(entry: WaitlistEntry) -> str:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    parts = []
    for window in entry.windows:
        on = window.date.isoformat() if window.date else f"every {days[window.day_of_week or 0]}"
        parts.append(f"{on} {window.start}-{window.end}")
    return "; ".join(parts)


class WaitlistEffects:
    def __init__(
        self,
        ledger: EffectLedger,
        tenants: TenantRepository,
        catalog: CatalogRepository,
        waitlist: WaitlistRepository,
        entries: WaitlistService,
        offers: WaitlistOffers,
        mail: MailGateway,
        suppressions: SuppressionRepository,
        clock: Callable[[], datetime],
    ) -> None:
        self._ledger = ledger
        self._tenants = tenants
        self._catalog = catalog
        self._waitlist = waitlist
        self._entries = entries
        self._offers = offers
        self._mail = mail
        self._suppressions = suppressions
        self._clock = clock

    # appointments -------------------------------------------------------------------------------
    def appointment_changed(self, old: Appointment | None, new: Appointment, transition: str) -> None:
        if new.is_group:
            return
        freed = old if transition == "rescheduled" else new
        if transition in FREEING or (transition == "rescheduled" and old is not None):
            assert freed is not None
            cause = FREEING.get(transition, "reschedule")

            def offer() -> dict[str, Any]:
                tenant = self._tenants.get(freed.tenant_id)
                outcome = self._offers.slot_freed(
                    tenant, freed.provider_id, freed.service_id, freed.start, freed.end, freed.occupied, cause
                )
                return {"outcome": outcome}

            self._ledger.once(new.tenant_id, new.id, new.version, "waitlist:freed", self._clock, offer)
        if transition in ("booked", "confirmed", "rescheduled"):
            self._ledger.once(
                new.tenant_id,
                new.id,
                new.version,
                "waitlist:retire",
                self._clock,
                lambda: {"retired": self._entries.retire_for(new)},
            )

    # waitlist items -----------------------------------------------------------------------------
    def item_changed(self, change: TableChange) -> None:
        assert change.tenant_id is not None
        tenant_id, new, old = change.tenant_id, change.new or {}, change.old or {}
        if change.item_type == "WaitlistEntry" and change.event_name == "INSERT" and new.get("status") == "pending":
            entry_id = str(new["entry_id"])
            self._ledger.once(
                tenant_id,
                entry_id,
                0,
                "mail:waitlist-confirm",
                self._clock,
                lambda: self._mail_confirm(tenant_id, entry_id),
            )
        if change.item_type != "WaitlistOffer" or not new:
            return
        offer_id, status = str(new["offer_id"]), new.get("status")
        was = old.get("status")
        if status == OfferStatus.OPEN.value and was in (None, OfferStatus.QUEUED.value):
            self._ledger.once(
                tenant_id,
                offer_id,
                0,
                "mail:waitlist-offer",
                self._clock,
                lambda: self._mail_offer(tenant_id, offer_id),
            )
            self._ledger.once(
                tenant_id,
                offer_id,
                0,
                "schedule:offer-expiry",
                self._clock,
                lambda: self._schedule(tenant_id, offer_id),
            )
        elif status in (OfferStatus.DECLINED.value, OfferStatus.EXPIRED.value) and was in {
            s.value for s in HOLDING_OFFERS
        }:

            def advance() -> dict[str, Any]:
                offer = self._waitlist.get_offer(tenant_id, offer_id)
                if offer is None:
                    return {"outcome": "gone"}
                return {"outcome": self._offers.advance(self._tenants.get(tenant_id), offer.provider_id, offer.start)}

            self._ledger.once(tenant_id, offer_id, 0, "waitlist:advance", self._clock, advance)

    def _schedule(self, tenant_id: str, offer_id: str) -> dict[str, Any]:
        offer = self._waitlist.get_offer(tenant_id, offer_id)
        if offer is None or offer.status not in HOLDING_OFFERS:
            return {"names": []}
        return {"names": [self._offers.schedule_expiry(offer)]}

    # mail ---------------------------------------------------------------------------------------
    def _mail_confirm(self, tenant_id: str, entry_id: str) -> dict[str, Any]:
        entry = self._waitlist.get_entry(tenant_id, entry_id)
        if entry is None:
            return {"outcome": "gone"}
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if not self._waitlist.set_confirm_token(entry, hash_secret(token)):
            return {"outcome": "not_pending"}
        tenant = self._tenants.get(tenant_id)
        service = self._catalog.snapshot(tenant_id).services.get(entry.service_id)
        name = service.name if service else "your service"
        url = confirm_url(tenant_id, entry.id, token)
        content = DocumentMail(
            subject=f"Confirm your place on the waitlist for {name}",
            heading="Confirm your waitlist place",
            lead=f"Confirm your email to join the waitlist for {name}. We will offer you a time when one frees.",
            rows=(("Service", name), ("Times", windows_text(entry)), ("Confirm", url)),
        )
        return {"outcome": self._send(tenant, entry, content, "waitlist-confirm")}

    def _mail_offer(self, tenant_id: str, offer_id: str) -> dict[str, Any]:
        offer = self._waitlist.get_offer(tenant_id, offer_id)
        if offer is None or offer.status is not OfferStatus.OPEN:
            return {"outcome": "closed"}
        entry = self._waitlist.get_entry(tenant_id, offer.entry_id)
        if entry is None:
            return {"outcome": "gone"}
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if not self._waitlist.set_offer_token(offer, hash_secret(token)):
            return {"outcome": "closed"}
        tenant = self._tenants.get(tenant_id)
        snapshot = self._catalog.snapshot(tenant_id)
        service = snapshot.services.get(offer.service_id)
        provider = snapshot.providers.get(offer.provider_id)
        name = service.name if service else "your service"
        zone = entry.client.timezone
        content = self._offer_content(
            offer, name, provider.name if provider else "", zone, offer_url(tenant_id, offer.id, token)
        )
        return {"outcome": self._send(tenant, entry, content, "waitlist-offer")}

    @staticmethod
    def _offer_content(offer: WaitlistOffer, service: str, provider: str, zone: str, url: str) -> DocumentMail:
        when = local_when(offer.start, zone)
        return DocumentMail(
            subject=f"A time opened up: {service} on {when}",
            heading="A time from the waitlist is yours to take",
            lead=f"{service} on {when} is held for you until {local_when(offer.expires_at, zone)}.",
            rows=(("When", when), ("With", provider or "-"), ("Accept or decline", url)),
            notes=("If you do not answer in time, the next person on the waitlist is asked.",),
        )

    def _send(self, tenant: Any, entry: WaitlistEntry, content: DocumentMail, kind: str) -> str:
        if self._suppressions.is_suppressed(tenant.id, entry.client.email):
            return "suppressed"
        rendered = render_document_mail(content, tenant.name, tenant.branding, entry.client.name)
        raw = build_message(
            sender_name=tenant.name,
            sender=mail_from(),
            recipient_name=entry.client.name,
            recipient=entry.client.email,
            reply_to=tenant.email,
            content=rendered,
            ics=None,
        )
        try:
            self._mail.send(OutgoingMail(mail_from(), entry.client.email, raw, {"tenant": tenant.id, "kind": kind}))
        except MailRejectedError as exc:
            logger.warning("waitlist mail rejected", extra={"entryId": entry.id, "reason": str(exc)})
            return "rejected"
        return "sent"
