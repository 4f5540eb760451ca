"""Offering freed times to the waitlist: one offer at a time per freed time, best entry first.

A freed time (a cancellation, a reschedule away, an expired hold, an admin release) opens a
round on its slot record. Each step of the round offers the time to the next best entry: the
offer holds the time with lock items that expire with it (and sits in the occupancy index,
so availability and booking treat it as a pending hold), in ONE transaction conditional on
the slot's current offer, so at most one offer is open per freed time and a duplicate event
or schedule finds nothing to do. Decline or expiry moves the round on; nobody left gives the
time back. Offer mails are counted per tenant and clock hour; past the allowance an offer is
queued (still holding its time) and mailed, in order, when the next hour begins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.credentials import hash_secret, same_hash
from chalicelib.domain.errors import NotFoundError, SlotUnavailableError, TokenGoneError
from chalicelib.domain.ids import new_id
from chalicelib.domain.locks import lock_quanta
from chalicelib.domain.schedules import OneTimeSchedule
from chalicelib.domain.slots import check_start
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.waitlist import (
    HOLDING_OFFERS,
    FreedSlot,
    OfferStatus,
    ScoreWeights,
    SlotStatus,
    Suitability,
    WaitlistOffer,
    median,
    next_rate_window,
    rank,
    rate_window,
)
from chalicelib.gateways.scheduler import SchedulerGateway
from chalicelib.services.booking import Booked, BookingRequest, BookingService, HeldTime
from chalicelib.services.calendars import TenantView, TenantViews
from chalicelib.store.tenants import TenantRepository
from chalicelib.store.waitlist import (
    AllowanceUsedError,
    Placement,
    SlotMovedOnError,
    TimeTakenError,
    WaitlistRepository,
)

EXPIRE_OFFER_TASK = "waitlist_offer_expiry"
SEND_QUEUED_TASK = "waitlist_send_queued"
WAITLIST_TASKS = frozenset({EXPIRE_OFFER_TASK, SEND_QUEUED_TASK})
MAX_STEPS = 5  # a round step retried after losing to a concurrent one
QUEUE_BATCH = 200


@dataclass(frozen=True)
class WaitlistTotals:
    freed_slots: int
    offered: int
    filled: int
    fill_rate: float
    median_minutes_to_fill: float | None
    offers_sent: int
    offers_accepted: int
    offers_declined: int
    offers_expired: int


@dataclass(frozen=True)
class WaitlistDay:
    day: date
    freed_slots: int
    filled: int
    offers_sent: int


def offer_expiry_schedule(offer: WaitlistOffer) -> OneTimeSchedule:
    at = offer.expires_at.replace(microsecond=0) + (
        timedelta(seconds=1) if offer.expires_at.microsecond else timedelta()
    )
    return OneTimeSchedule(
        f"wlo-{offer.id}-expiry",
        at,
        {"task": EXPIRE_OFFER_TASK, "tenantId": offer.tenant_id, "offerId": offer.id},
    )


def send_queued_schedule(tenant_id: str, at: datetime) -> OneTimeSchedule:
    return OneTimeSchedule(
        f"wlq-{tenant_id}-{int(at.timestamp())}", at, {"task": SEND_QUEUED_TASK, "tenantId": tenant_id}
    )


class WaitlistOffers:
    def __init__(
        self,
        tenants: TenantRepository,
        views: TenantViews,
        waitlist: WaitlistRepository,
        booking: BookingService,
        scheduler: Callable[[], SchedulerGateway],
        clock: Callable[[], datetime],
    ) -> None:
        self._tenants = tenants
        self._views = views
        self._waitlist = waitlist
        self._booking = booking
        self._scheduler = scheduler
        self._clock = clock

    # a time frees -------------------------------------------------------------------------------
    def slot_freed(
        self,
        tenant: Tenant,
        provider_id: str,
        service_id: str,
        start: datetime,
        end: datetime,
        occupied: tuple[datetime, datetime],
        cause: str,
    ) -> str:
        """Open a round of offers for the time (or find the one under way) and make its first offer."""
        existing = self._waitlist.get_slot(tenant.id, provider_id, start)
        if existing is None or existing.status is not SlotStatus.OFFERING:
            slot = FreedSlot(
                tenant_id=tenant.id,
                provider_id=provider_id,
                service_id=service_id,
                start=start,
                end=end,
                occupied_start=occupied[0],
                occupied_end=occupied[1],
                status=SlotStatus.OFFERING,
                round=existing.round + 1 if existing else 1,
                freed_at=self._clock(),
                cause=cause,
                round_sk="",
            )
            self._waitlist.open_round(slot, existing)
        return self.advance(tenant, provider_id, start)

    def release(self, tenant: Tenant, provider_id: str, service_id: str, start: datetime) -> str:
        """The business says a time is free: it must be one availability offers right now."""
        now = self._clock()
        view = self._views.around(tenant, start - timedelta(days=1), start + timedelta(days=1), now)
        service = view.snapshot.services.get(service_id)
        provider = view.snapshot.providers.get(provider_id)
        if service is None or provider is None or not provider.offers(service_id):
            raise NotFoundError("No such provider for this service.")
        verdict = check_start(view.spec(service), view.calendar(provider, service), view.rules(), start)
        if verdict is not None:
            raise SlotUnavailableError("That time is not free to offer.", {"reason": verdict.value})
        end = start + timedelta(minutes=service.duration_minutes)
        occupied = (
            start - timedelta(minutes=service.buffer_before_minutes),
            end + timedelta(minutes=service.buffer_after_minutes),
        )
        return self.slot_freed(tenant, provider_id, service_id, start, end, occupied, "release")

    def advance(self, tenant: Tenant, provider_id: str, start: datetime) -> str:
        """Offer the time to the next entry unless an offer is still holding it. Idempotent."""
        for _ in range(MAX_STEPS):
            slot = self._waitlist.get_slot(tenant.id, provider_id, start)
            if slot is None or slot.status is not SlotStatus.OFFERING:
                return "settled"
            if slot.current_offer_id:
                current = self._waitlist.get_offer(tenant.id, slot.current_offer_id)
                if current is not None and current.status in HOLDING_OFFERS:
                    return "offer_open"
                if current is not None and current.status is OfferStatus.ACCEPTED:
                    return "settled"
            try:
                return self._step(tenant, slot)
            except SlotMovedOnError:
                continue
        return "contended"

    def _step(self, tenant: Tenant, slot: FreedSlot) -> str:
        now = self._clock()
        quanta = lock_quanta(slot.occupied_start, slot.occupied_end)
        if slot.start < now + timedelta(minutes=tenant.min_notice_minutes):
            self._waitlist.close_slot(slot, SlotStatus.RETURNED, quanta)
            return "inside_notice"
        view = self._views.around(tenant, slot.start - timedelta(days=1), slot.start + timedelta(days=1), now)
        view = replace(view, appointments=[a for a in view.appointments if a.id != slot.current_offer_id])
        fits = self._fits(view, slot)
        if slot.service_id not in fits:  # booked meanwhile, or no longer offered at all
            self._waitlist.close_slot(slot, SlotStatus.RETURNED, quanta)
            return "not_free"
        weights = ScoreWeights.of(tenant.waitlist_weights)
        ranked = rank(
            self._waitlist.entries(tenant.id),
            slot.freed,
            Suitability(fits),
            weights,
            now,
            exclude=frozenset(slot.offered_entry_ids),
        )
        if not ranked:
            self._waitlist.close_slot(slot, SlotStatus.RETURNED, quanta)
            return "returned"
        best = ranked[0]
        offer = WaitlistOffer(
            id=new_id("wlo_"),
            tenant_id=tenant.id,
            entry_id=best.entry.id,
            service_id=best.entry.service_id,
            provider_id=slot.provider_id,
            start=slot.start,
            end=fits[best.entry.service_id],
            occupied_start=slot.occupied_start,
            occupied_end=slot.occupied_end,
            status=OfferStatus.OPEN,
            score=best.score,
            score_parts=best.parts.as_dict(),
            created_at=now,
            expires_at=now + timedelta(minutes=tenant.waitlist_offer_minutes),
            round=slot.round,
            round_sk=slot.round_sk,
            sent_at=now,
            client_email=best.entry.client.email,
        )
        try:
            if not self._waitlist.queued(tenant.id, 1):  # nobody waiting ahead: send now if the hour allows
                try:
                    self._waitlist.place_offer(
                        slot, offer, quanta, Placement(rate_window(now), tenant.waitlist_offers_per_hour), now
                    )
                    return "offered"
                except AllowanceUsedError:
                    pass
            send_at = next_rate_window(now)
            queued = replace(
                offer,
                status=OfferStatus.QUEUED,
                sent_at=None,
                expires_at=send_at + timedelta(minutes=tenant.waitlist_offer_minutes),
            )
            self._waitlist.place_offer(slot, queued, quanta, Placement(None, tenant.waitlist_offers_per_hour), now)
            self._scheduler().create(send_queued_schedule(tenant.id, send_at))
            return "queued"
        except TimeTakenError:
            self._waitlist.close_slot(slot, SlotStatus.RETURNED, quanta)
            return "not_free"

    def _fits(self, view: TenantView, slot: FreedSlot) -> dict[str, datetime]:
        """Services of the slot's provider that could be booked at the freed start inside the freed
        time, with the end each booking would have (the freed service itself if still free)."""
        provider = view.snapshot.providers.get(slot.provider_id)
        if provider is None:
            return {}
        fits: dict[str, datetime] = {}
        for service in view.snapshot.services.values():
            if not service.active or service.capacity > 1 or not provider.offers(service.id):
                continue
            end = slot.start + timedelta(minutes=service.duration_minutes)
            before = slot.start - timedelta(minutes=service.buffer_before_minutes)
            after = end + timedelta(minutes=service.buffer_after_minutes)
            if before < slot.occupied_start or after > slot.occupied_end:
                continue
            if check_start(view.spec(service), view.calendar(provider, service), view.rules(), slot.start) is None:
                fits[service.id] = end
        return fits

    # the client answers -------------------------------------------------------------------------
    def _open_offer(self, tenant_id: str, offer_id: str, token: str) -> tuple[WaitlistOffer, str]:
        offer = self._waitlist.get_offer(tenant_id, offer_id)
        if offer is None:
            raise NotFoundError("No such offer.")
        given = hash_secret(token)
        if offer.token_hash is None or not same_hash(given, offer.token_hash):
            raise TokenGoneError("This offer link is not valid.")
        if offer.status is not OfferStatus.OPEN:
            raise TokenGoneError(f"This offer was already {offer.status.value}.", {"status": offer.status.value})
        if offer.expires_at <= self._clock():
            raise TokenGoneError("This offer has expired.", {"status": "expired"})
        return offer, given

    def view(self, tenant_id: str, offer_id: str, token: str) -> WaitlistOffer:
        """The open offer its link names (410 once it is answered or expired)."""
        return self._open_offer(tenant_id, offer_id, token)[0]

    def accept(self, tenant: Tenant, offer_id: str, token: str, intake: dict[str, Any]) -> Booked:
        """Book the offered time through the normal booking path; the offer's hold becomes the
        booking's (the lock quanta change owner in the booking's own transaction)."""
        offer, token_hash = self._open_offer(tenant.id, offer_id, token)
        entry = self._waitlist.get_entry(tenant.id, offer.entry_id)
        if entry is None:
            raise NotFoundError("No such offer.")
        request = BookingRequest(
            service_id=offer.service_id,
            provider_id=offer.provider_id,
            start=offer.start,
            client=entry.client,
            intake=intake,
            payment=None,
            idempotency_key=None,
        )
        now = self._clock()
        held = HeldTime(
            offer.id, lambda appointment_id: self._waitlist.accept_part(offer, token_hash, now, appointment_id)
        )
        try:
            return self._booking.book(tenant, request, held)
        except SlotUnavailableError:
            again = self._waitlist.get_offer(tenant.id, offer_id)
            if again is not None and again.status is not OfferStatus.OPEN:
                raise TokenGoneError(
                    f"This offer was already {again.status.value}.", {"status": again.status.value}
                ) from None
            raise

    def decline(self, tenant: Tenant, offer_id: str, token: str) -> WaitlistOffer:
        offer, token_hash = self._open_offer(tenant.id, offer_id, token)
        now = self._clock()
        if not self._waitlist.close_offer(offer, OfferStatus.DECLINED, now, token_hash=token_hash):
            raise TokenGoneError("This offer was already answered.")
        self.advance(tenant, offer.provider_id, offer.start)
        return replace(offer, status=OfferStatus.DECLINED, closed_at=now)

    # schedules ----------------------------------------------------------------------------------
    def run_task(self, payload: dict[str, Any]) -> dict[str, str]:
        task, tenant_id = payload.get("task"), str(payload.get("tenantId", ""))
        try:
            tenant = self._tenants.get(tenant_id)
        except NotFoundError:
            return {"outcome": "gone"}
        if task == EXPIRE_OFFER_TASK:
            return {"outcome": self.expire(tenant, str(payload.get("offerId", "")))}
        return {"outcome": self.send_queued(tenant)}

    def expire(self, tenant: Tenant, offer_id: str) -> str:
        """The offer's one-time schedule: a still-holding offer past its time expires, and the
        round moves on. A second firing (or a late one after an answer) changes nothing."""
        offer = self._waitlist.get_offer(tenant.id, offer_id)
        if offer is None:
            return "gone"
        if offer.status not in HOLDING_OFFERS:
            return "already_" + offer.status.value
        now = self._clock()
        if offer.expires_at > now:
            return "not_due"
        if not self._waitlist.close_offer(offer, OfferStatus.EXPIRED, now):
            return "already_closed"
        return "expired:" + self.advance(tenant, offer.provider_id, offer.start)

    def send_queued(self, tenant: Tenant) -> str:
        """At the start of an hour, queued offers go out in the order they were made, as many as
        the hour allows; the rest wait for the next hour (never dropped)."""
        now = self._clock()
        window, sent = rate_window(now), 0
        answer_time = timedelta(minutes=tenant.waitlist_offer_minutes)
        waiting = [
            offer
            for offer in (self._waitlist.get_offer(tenant.id, i) for i in self._waitlist.queued(tenant.id, QUEUE_BATCH))
            if offer is not None
        ]
        for position, offer in enumerate(waiting):
            if offer.status is not OfferStatus.QUEUED:
                self._waitlist.drop_queued(offer)
                continue
            try:
                self._waitlist.release_queued(offer, window, tenant.waitlist_offers_per_hour, now, now + answer_time)
            except AllowanceUsedError:
                self._hold_for_next_hour(tenant, waiting[position:], next_rate_window(now) + answer_time)
                self._scheduler().create(send_queued_schedule(tenant.id, next_rate_window(now)))
                return f"sent:{sent}:more_waiting"
            except SlotMovedOnError:
                continue
            except TimeTakenError:
                self._lost_hold(tenant, offer, now)
                continue
            sent += 1
        return f"sent:{sent}"

    def _hold_for_next_hour(self, tenant: Tenant, waiting: list[WaitlistOffer], until: datetime) -> None:
        """Offers left in the queue keep their time until the hour they can be sent in."""
        now = self._clock()
        for offer in waiting:
            if offer.status is not OfferStatus.QUEUED or offer.expires_at >= until:
                continue
            try:
                self._waitlist.extend_queued_hold(offer, until)
            except SlotMovedOnError:
                continue
            except TimeTakenError:
                self._lost_hold(tenant, offer, now)

    def _lost_hold(self, tenant: Tenant, offer: WaitlistOffer, now: datetime) -> None:
        """A queued offer whose hold lapsed (one queued before holds were extended) and whose time
        someone took: it expires, and its round moves on (the stream's advance finds it not free)."""
        self._waitlist.close_offer(offer, OfferStatus.EXPIRED, now)

    def schedule_expiry(self, offer: WaitlistOffer) -> str:
        schedule = offer_expiry_schedule(offer)
        self._scheduler().create(schedule)
        return schedule.name

    # report -------------------------------------------------------------------------------------
    def report(self, tenant: Tenant, first: date, last: date) -> tuple[list[WaitlistDay], WaitlistTotals]:
        zone = ZoneInfo(tenant.timezone)
        start = datetime.combine(first, time(0), zone)
        end = datetime.combine(last + timedelta(days=1), time(0), zone)
        rounds = self._waitlist.rounds(tenant.id, start, end)
        offers = self._waitlist.offers(tenant.id, start, end)
        filled = [r for r in rounds if r.filled_at is not None]
        minutes = [(r.filled_at - r.freed_at).total_seconds() / 60 for r in filled if r.filled_at is not None]
        sent = [o for o in offers if o.sent_at is not None]
        totals = WaitlistTotals(
            freed_slots=len(rounds),
            offered=sum(1 for r in rounds if r.offers > 0),
            filled=len(filled),
            fill_rate=round(len(filled) / len(rounds), 4) if rounds else 0.0,
            median_minutes_to_fill=round(m, 2) if (m := median(minutes)) is not None else None,
            offers_sent=len(sent),
            offers_accepted=sum(1 for o in offers if o.status is OfferStatus.ACCEPTED),
            offers_declined=sum(1 for o in offers if o.status is OfferStatus.DECLINED),
            offers_expired=sum(1 for o in offers if o.status is OfferStatus.EXPIRED),
        )
        days: list[WaitlistDay] = []
        day = first
        while day <= last:
            days.append(
                WaitlistDay(
                    day=day,
                    freed_slots=sum(1 for r in rounds if r.freed_at.astimezone(zone).date() == day),
                    filled=sum(1 for r in filled if r.freed_at.astimezone(zone).date() == day),
                    offers_sent=sum(1 for o in sent if o.sent_at and o.sent_at.astimezone(zone).date() == day),
                )
            )
            day += timedelta(days=1)
        return days, totals
