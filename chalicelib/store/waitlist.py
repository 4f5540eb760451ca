"""Waitlist entries, freed slots, offers, their lock quanta and the counters that bound them.

Every invariant is a condition, never read-then-write: at most 3 active entries per email
(a counter under `count < 3`, moved in the entry's own transaction), at most one open offer
per freed time (the slot's `current_offer_id` is the condition of the next offer), the held
time (lock items owned by the offer, expiring with it, in the offer's transaction), and the
hourly allowance of offer mails (a counter per clock hour under `count < limit`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.appointments import Appointment, AppointmentStatus, ClientInfo
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import ConflictError, TokenGoneError
from chalicelib.domain.locks import lock_quanta
from chalicelib.domain.waitlist import (
    MAX_ACTIVE_ENTRIES_PER_EMAIL,
    EntryStatus,
    FreedRound,
    FreedSlot,
    OfferStatus,
    SlotStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitWindow,
)
from chalicelib.store import keys
from chalicelib.store.appointments import LOCK_RETENTION, TransactionPart, email_hash, lost_race
from chalicelib.store.models import (
    FreedRoundItem,
    FreedSlotItem,
    LockItem,
    WaitlistCounterItem,
    WaitlistEntryItem,
    WaitlistOfferItem,
    WaitlistQueuedItem,
)
from chalicelib.store.table import ensure_bound, transaction

RATE_RETENTION = timedelta(days=2)


class SlotMovedOnError(Exception):
    """The freed slot is no longer where this step expected it (another step ran first)."""


class TimeTakenError(Exception):
    """A lock quantum of the freed time belongs to someone else now (it was booked)."""


class AllowanceUsedError(Exception):
    """This hour's offer mails are all sent."""


# --- conversions ---------------------------------------------------------------------------------


def _window_data(window: WaitWindow) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "date": window.date.isoformat() if window.date else None,
        "dayOfWeek": window.day_of_week,
    }


def _window(data: dict[str, Any]) -> WaitWindow:
    return WaitWindow(
        start=data["start"],
        end=data["end"],
        date=date.fromisoformat(data["date"]) if data.get("date") else None,
        day_of_week=data.get("dayOfWeek"),
    )


def _entry_item(entry: WaitlistEntry, confirm_token_hash: str | None = None) -> WaitlistEntryItem:
    return WaitlistEntryItem(
        keys.waitlist_pk(entry.tenant_id),
        keys.waitlist_entry_sk(entry.id),
        entry_id=entry.id,
        tenant_id=entry.tenant_id,
        service_id=entry.service_id,
        provider_id=entry.provider_id,
        windows=[_window_data(w) for w in entry.windows],
        client={
            "name": entry.client.name,
            "email": entry.client.email,
            "phone": entry.client.phone,
            "timezone": entry.client.timezone,
        },
        status=entry.status.value,
        vip=entry.vip,
        joined_at=entry.joined_at,
        updated_at=entry.updated_at,
        confirmed_at=entry.confirmed_at,
        removed_reason=entry.removed_reason,
        confirm_token_hash=confirm_token_hash,
        revision=entry.version,
    )


def _entry(item: WaitlistEntryItem) -> WaitlistEntry:
    client: dict[str, Any] = item.client
    return WaitlistEntry(
        id=item.entry_id,
        tenant_id=item.tenant_id,
        service_id=item.service_id,
        provider_id=item.provider_id,
        windows=tuple(_window(w) for w in item.windows or []),
        client=ClientInfo(client["name"], client["email"], client.get("phone"), client["timezone"]),
        status=EntryStatus(item.status),
        joined_at=item.joined_at,
        updated_at=item.updated_at,
        vip=bool(item.vip),
        removed_reason=item.removed_reason,
        confirmed_at=item.confirmed_at,
        version=int(item.revision or 1),
    )


def _slot_item(slot: FreedSlot) -> FreedSlotItem:
    return FreedSlotItem(
        keys.freed_slot_pk(slot.tenant_id, slot.provider_id, to_iso(slot.start)),
        keys.FREED_SLOT_SK,
        provider_id=slot.provider_id,
        service_id=slot.service_id,
        start=to_iso(slot.start),
        end=to_iso(slot.end),
        occupied_start=to_iso(slot.occupied_start),
        occupied_end=to_iso(slot.occupied_end),
        status=slot.status.value,
        round=slot.round,
        freed_at=slot.freed_at,
        cause=slot.cause,
        current_offer_id=slot.current_offer_id,
        offered_entry_ids=list(slot.offered_entry_ids),
        round_sk=slot.round_sk,
    )


def _slot(tenant_id: str, item: FreedSlotItem) -> FreedSlot:
    return FreedSlot(
        tenant_id=tenant_id,
        provider_id=item.provider_id,
        service_id=item.service_id,
        start=from_iso(item.start),
        end=from_iso(item.end),
        occupied_start=from_iso(item.occupied_start),
        occupied_end=from_iso(item.occupied_end),
        status=SlotStatus(item.status),
        round=int(item.round),
        freed_at=item.freed_at,
        cause=item.cause,
        round_sk=item.round_sk,
        current_offer_id=item.current_offer_id,
        offered_entry_ids=tuple(item.offered_entry_ids or []),
    )


def _offer_item(offer: WaitlistOffer) -> WaitlistOfferItem:
    holding = offer.status in (OfferStatus.QUEUED, OfferStatus.OPEN)
    return WaitlistOfferItem(
        keys.offer_pk(offer.tenant_id, offer.id),
        keys.OFFER_SK,
        gsi1pk=keys.occupancy_gsi_pk(offer.tenant_id) if holding else None,
        gsi1sk=keys.time_sort_key(to_iso(offer.occupied_start), offer.id) if holding else None,
        gsi2pk=keys.offers_gsi_pk(offer.tenant_id),
        gsi2sk=keys.time_sort_key(to_iso(offer.created_at), offer.id),
        offer_id=offer.id,
        tenant_id=offer.tenant_id,
        entry_id=offer.entry_id,
        service_id=offer.service_id,
        provider_id=offer.provider_id,
        start=to_iso(offer.start),
        end=to_iso(offer.end),
        occupied_start=to_iso(offer.occupied_start),
        occupied_end=to_iso(offer.occupied_end),
        status=offer.status.value,
        score=offer.score,
        score_parts=offer.score_parts,
        created_at=offer.created_at,
        expires_at_instant=offer.expires_at,
        sent_at=offer.sent_at,
        closed_at=offer.closed_at,
        appointment_id=offer.appointment_id,
        client_email=offer.client_email,
        token_hash=offer.token_hash,
        round=offer.round,
        round_sk=offer.round_sk,
    )


def _offer(item: WaitlistOfferItem) -> WaitlistOffer:
    return WaitlistOffer(
        id=item.offer_id,
        tenant_id=item.tenant_id,
        entry_id=item.entry_id,
        service_id=item.service_id,
        provider_id=item.provider_id,
        start=from_iso(item.start),
        end=from_iso(item.end),
        occupied_start=from_iso(item.occupied_start),
        occupied_end=from_iso(item.occupied_end),
        status=OfferStatus(item.status),
        score=float(item.score or 0),
        score_parts=dict(item.score_parts or {}),
        created_at=item.created_at,
        expires_at=item.expires_at_instant,
        round=int(item.round or 1),
        round_sk=item.round_sk or "",
        sent_at=item.sent_at,
        closed_at=item.closed_at,
        appointment_id=item.appointment_id,
        client_email=item.client_email or "",
        token_hash=item.token_hash,
    )


def offer_hold(item: WaitlistOfferItem) -> Appointment:
    """A queued or open offer as the slot engine sees it: a pending hold of its time until it expires."""
    start, end = from_iso(item.start), from_iso(item.end)
    occupied_start, occupied_end = from_iso(item.occupied_start), from_iso(item.occupied_end)
    return Appointment(
        id=item.offer_id,
        tenant_id=item.tenant_id,
        service_id=item.service_id,
        service_name="",
        provider_id=item.provider_id,
        status=AppointmentStatus.PENDING,
        start=start,
        end=end,
        timezone="UTC",
        client=ClientInfo("", item.client_email or "", None, "UTC"),
        intake={},
        price_cents=0,
        currency="USD",
        buffer_before_minutes=int((start - occupied_start).total_seconds() // 60),
        buffer_after_minutes=int((occupied_end - end).total_seconds() // 60),
        capacity=1,
        created_at=item.created_at,
        updated_at=item.created_at,
        hold_until=item.expires_at_instant,
    )


def _offer_lock(offer: WaitlistOffer, quantum: datetime) -> LockItem:
    return LockItem(
        keys.lock_pk(offer.tenant_id, offer.provider_id),
        to_iso(quantum),
        owner=offer.id,
        hold_until_epoch=int(offer.expires_at.timestamp()),
        expires_at=max(offer.occupied_end, offer.expires_at) + LOCK_RETENTION,
    )


def _free_or_held_by(now: datetime, owner: str | None) -> Any:
    free = LockItem.pk.does_not_exist() | (LockItem.hold_until_epoch <= int(now.timestamp()))
    return free | (LockItem.owner == owner) if owner else free


@dataclass(frozen=True)
class Placement:
    """What committing an offer also does: count its mail in this hour, or queue it."""

    rate_window: datetime | None  # None: queued
    limit: int


class WaitlistRepository:
    """The only code that knows waitlist items."""

    # entries ------------------------------------------------------------------------------------
    def create_entry(self, entry: WaitlistEntry) -> None:
        ensure_bound()
        _entry_item(entry).save(condition=WaitlistEntryItem.pk.does_not_exist())

    def get_entry(self, tenant_id: str, entry_id: str) -> WaitlistEntry | None:
        ensure_bound()
        try:
            item = WaitlistEntryItem.get(
                keys.waitlist_pk(tenant_id), keys.waitlist_entry_sk(entry_id), consistent_read=True
            )
        except DoesNotExist:
            return None
        return _entry(item)

    def confirm_token_hash(self, tenant_id: str, entry_id: str) -> str | None:
        ensure_bound()
        try:
            item = WaitlistEntryItem.get(
                keys.waitlist_pk(tenant_id), keys.waitlist_entry_sk(entry_id), consistent_read=True
            )
        except DoesNotExist:
            return None
        return item.confirm_token_hash

    def entries(self, tenant_id: str) -> list[WaitlistEntry]:
        """Every entry of the tenant, in join order (one query of its waitlist partition)."""
        ensure_bound()
        found = [
            _entry(item)
            for item in WaitlistEntryItem.query(
                keys.waitlist_pk(tenant_id), WaitlistEntryItem.sk.startswith(keys.WAITLIST_ENTRY_PREFIX)
            )
            if isinstance(item, WaitlistEntryItem)
        ]
        return sorted(found, key=lambda e: (e.joined_at, e.id))

    def set_confirm_token(self, entry: WaitlistEntry, token_hash: str) -> bool:
        """Store the confirmation link's token hash while the entry is still pending."""
        ensure_bound()
        item = WaitlistEntryItem(keys.waitlist_pk(entry.tenant_id), keys.waitlist_entry_sk(entry.id))
        try:
            item.update(
                actions=[WaitlistEntryItem.confirm_token_hash.set(token_hash)],
                condition=WaitlistEntryItem.status == EntryStatus.PENDING.value,
            )
        except Exception as exc:
            from chalicelib.store.table import is_condition_failure

            if is_condition_failure(exc):
                return False
            raise
        return True

    def active_count(self, tenant_id: str, email: str) -> int:
        ensure_bound()
        try:
            item = WaitlistCounterItem.get(
                keys.waitlist_active_pk(tenant_id, email_hash(email)), keys.WAITLIST_ACTIVE_SK, consistent_read=True
            )
        except DoesNotExist:
            return 0
        return int(item.tally or 0)

    def change_entry(self, before: WaitlistEntry, after: WaitlistEntry, *, token_hash: str | None = None) -> None:
        """Commit `after` if the entry is still as read; the email's active count moves with it.

        `token_hash`: the confirmation must present the stored token (410 otherwise); a fourth
        active entry of one email is a 409."""
        ensure_bound()
        t = before.tenant_id
        counter = WaitlistCounterItem(
            keys.waitlist_active_pk(t, email_hash(before.client.email)), keys.WAITLIST_ACTIVE_SK
        )
        was, now_active = before.status is EntryStatus.ACTIVE, after.status is EntryStatus.ACTIVE
        condition = WaitlistEntryItem.revision == before.version
        if token_hash is not None:
            condition = condition & (WaitlistEntryItem.confirm_token_hash == token_hash)
        try:
            with transaction() as tx:
                tx.save(_entry_item(after), condition=condition)
                if now_active and not was:
                    tx.update(
                        counter,
                        actions=[WaitlistCounterItem.tally.add(1), WaitlistCounterItem.type.set(WaitlistCounterItem)],
                        condition=WaitlistCounterItem.pk.does_not_exist()
                        | (WaitlistCounterItem.tally < MAX_ACTIVE_ENTRIES_PER_EMAIL),
                    )
                elif was and not now_active:
                    tx.update(counter, actions=[WaitlistCounterItem.tally.add(-1)])
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            if 0 in lost:
                if token_hash is not None:
                    raise TokenGoneError("This confirmation link has been used or replaced.") from exc
                raise ConflictError("The waitlist entry changed meanwhile; read it again.") from exc
            raise ConflictError(
                f"At most {MAX_ACTIVE_ENTRIES_PER_EMAIL} active waitlist entries per email.",
                {"limit": MAX_ACTIVE_ENTRIES_PER_EMAIL},
            ) from exc

    # slots --------------------------------------------------------------------------------------
    def get_slot(self, tenant_id: str, provider_id: str, start: datetime) -> FreedSlot | None:
        ensure_bound()
        try:
            item = FreedSlotItem.get(
                keys.freed_slot_pk(tenant_id, provider_id, to_iso(start)), keys.FREED_SLOT_SK, consistent_read=True
            )
        except DoesNotExist:
            return None
        return _slot(tenant_id, item)

    def open_round(self, slot: FreedSlot, previous: FreedSlot | None) -> bool:
        """Start a round of offers for a freed time; False when one is already under way."""
        ensure_bound()
        slot = replace(
            slot, round_sk=keys.freed_round_sk(to_iso(slot.freed_at), slot.provider_id, to_iso(slot.start), slot.round)
        )
        item = _slot_item(slot)
        if previous is None:
            condition = FreedSlotItem.pk.does_not_exist()
        else:
            condition = (FreedSlotItem.round == previous.round) & (FreedSlotItem.status != SlotStatus.OFFERING.value)
        try:
            with transaction() as tx:
                tx.save(item, condition=condition)
                tx.save(
                    FreedRoundItem(
                        keys.freed_rounds_pk(slot.tenant_id),
                        slot.round_sk,
                        provider_id=slot.provider_id,
                        start=to_iso(slot.start),
                        round=slot.round,
                        freed_at=slot.freed_at,
                    ),
                    condition=FreedRoundItem.pk.does_not_exist(),
                )
        except TransactWriteError as exc:
            if lost_race(exc) is None:
                raise
            return False
        return True

    def _slot_condition(self, slot: FreedSlot) -> Any:
        current = (
            FreedSlotItem.current_offer_id == slot.current_offer_id
            if slot.current_offer_id
            else FreedSlotItem.current_offer_id.does_not_exist()
        )
        return (FreedSlotItem.status == SlotStatus.OFFERING.value) & (FreedSlotItem.round == slot.round) & current

    def place_offer(
        self, slot: FreedSlot, offer: WaitlistOffer, quanta: list[datetime], placement: Placement, now: datetime
    ) -> None:
        """Commit the next offer of the slot: the offer, its hold of the time, and either its
        mail counted in this hour or its place in the queue. Raises SlotMovedOnError (another
        step ran first), TimeTakenError (the time was booked) or AllowanceUsedError."""
        ensure_bound()
        t = slot.tenant_id
        slot_key = FreedSlotItem(keys.freed_slot_pk(t, slot.provider_id, to_iso(slot.start)), keys.FREED_SLOT_SK)
        lock_positions: list[int] = []
        counter_position = -1
        try:
            with transaction() as tx:
                tx.update(
                    slot_key,
                    actions=[
                        FreedSlotItem.current_offer_id.set(offer.id),
                        FreedSlotItem.offered_entry_ids.set([*slot.offered_entry_ids, offer.entry_id]),
                    ],
                    condition=self._slot_condition(slot),
                )
                tx.save(_offer_item(offer), condition=WaitlistOfferItem.pk.does_not_exist())
                tx.update(
                    FreedRoundItem(keys.freed_rounds_pk(t), slot.round_sk), actions=[FreedRoundItem.offers.add(1)]
                )
                ops = 3
                for quantum in quanta:
                    tx.save(_offer_lock(offer, quantum), condition=_free_or_held_by(now, slot.current_offer_id))
                    lock_positions.append(ops)
                    ops += 1
                if placement.rate_window is not None:
                    tx.update(
                        WaitlistCounterItem(keys.offer_rate_pk(t), to_iso(placement.rate_window)),
                        actions=[
                            WaitlistCounterItem.tally.add(1),
                            WaitlistCounterItem.type.set(WaitlistCounterItem),
                            WaitlistCounterItem.expires_at.set(placement.rate_window + RATE_RETENTION),
                        ],
                        condition=WaitlistCounterItem.pk.does_not_exist()
                        | (WaitlistCounterItem.tally < placement.limit),
                    )
                    counter_position = ops
                else:
                    tx.save(
                        WaitlistQueuedItem(
                            keys.offer_queue_pk(t),
                            keys.time_sort_key(to_iso(offer.created_at), offer.id),
                            offer_id=offer.id,
                        )
                    )
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            if 0 in lost or 1 in lost:
                raise SlotMovedOnError from exc
            if set(lost) & set(lock_positions):
                raise TimeTakenError from exc
            if counter_position in lost:
                raise AllowanceUsedError from exc
            raise

    def close_slot(self, slot: FreedSlot, status: SlotStatus, quanta: list[datetime]) -> None:
        """End the round: give the time back (its quanta, if the last offer still holds them)."""
        ensure_bound()
        t = slot.tenant_id
        try:
            with transaction() as tx:
                tx.update(
                    FreedSlotItem(keys.freed_slot_pk(t, slot.provider_id, to_iso(slot.start)), keys.FREED_SLOT_SK),
                    actions=[FreedSlotItem.status.set(status.value)],
                    condition=self._slot_condition(slot),
                )
                if slot.current_offer_id:
                    for quantum in quanta:
                        tx.delete(
                            LockItem(keys.lock_pk(t, slot.provider_id), to_iso(quantum)),
                            condition=LockItem.pk.does_not_exist() | (LockItem.owner == slot.current_offer_id),
                        )
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            if 0 in lost:
                raise SlotMovedOnError from exc
            # a quantum already booked by someone else: only release what is still the offer's
            self._close_slot_only(slot, status)

    def _close_slot_only(self, slot: FreedSlot, status: SlotStatus) -> None:
        t = slot.tenant_id
        item = FreedSlotItem(keys.freed_slot_pk(t, slot.provider_id, to_iso(slot.start)), keys.FREED_SLOT_SK)
        try:
            item.update(actions=[FreedSlotItem.status.set(status.value)], condition=self._slot_condition(slot))
        except Exception as exc:
            from chalicelib.store.table import is_condition_failure

            if is_condition_failure(exc):
                raise SlotMovedOnError from exc
            raise

    # offers -------------------------------------------------------------------------------------
    def get_offer(self, tenant_id: str, offer_id: str) -> WaitlistOffer | None:
        ensure_bound()
        try:
            item = WaitlistOfferItem.get(keys.offer_pk(tenant_id, offer_id), keys.OFFER_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _offer(item)

    def set_offer_token(self, offer: WaitlistOffer, token_hash: str) -> bool:
        """The mail's token, stored (as its hash) while the offer is open; False if it closed."""
        ensure_bound()
        item = WaitlistOfferItem(keys.offer_pk(offer.tenant_id, offer.id), keys.OFFER_SK)
        try:
            item.update(
                actions=[WaitlistOfferItem.token_hash.set(token_hash)],
                condition=WaitlistOfferItem.status == OfferStatus.OPEN.value,
            )
        except Exception as exc:
            from chalicelib.store.table import is_condition_failure

            if is_condition_failure(exc):
                return False
            raise
        return True

    def close_offer(
        self, offer: WaitlistOffer, status: OfferStatus, now: datetime, *, token_hash: str | None = None
    ) -> bool:
        """Decline (with the token) or expire (when due) a holding offer; False if it already closed.

        The hold leaves the occupancy index; its lock quanta stay until the next offer takes them
        over or the round ends and gives them back."""
        ensure_bound()
        item = WaitlistOfferItem(keys.offer_pk(offer.tenant_id, offer.id), keys.OFFER_SK)
        holding = WaitlistOfferItem.status.is_in(OfferStatus.QUEUED.value, OfferStatus.OPEN.value)
        if token_hash is not None:
            condition = (WaitlistOfferItem.status == OfferStatus.OPEN.value) & (
                WaitlistOfferItem.token_hash == token_hash
            )
        else:
            condition = holding & (WaitlistOfferItem.expires_at_instant <= now)
        try:
            with transaction() as tx:
                tx.update(
                    item,
                    actions=[
                        WaitlistOfferItem.status.set(status.value),
                        WaitlistOfferItem.closed_at.set(now),
                        WaitlistOfferItem.gsi1pk.remove(),
                        WaitlistOfferItem.gsi1sk.remove(),
                    ],
                    condition=condition,
                )
                tx.delete(
                    WaitlistQueuedItem(
                        keys.offer_queue_pk(offer.tenant_id), keys.time_sort_key(to_iso(offer.created_at), offer.id)
                    )
                )
        except TransactWriteError as exc:
            if lost_race(exc) is None:
                raise
            return False
        return True

    def accept_part(self, offer: WaitlistOffer, token_hash: str, now: datetime, appointment_id: str) -> TransactionPart:
        """The writes that make an offer accepted, added to the booking's own transaction: the
        offer (still open, this token, not expired), its slot (filled) and the round's fill time."""
        t = offer.tenant_id

        def add(tx: TransactWrite) -> None:
            tx.update(
                WaitlistOfferItem(keys.offer_pk(t, offer.id), keys.OFFER_SK),
                actions=[
                    WaitlistOfferItem.status.set(OfferStatus.ACCEPTED.value),
                    WaitlistOfferItem.closed_at.set(now),
                    WaitlistOfferItem.appointment_id.set(appointment_id),
                    WaitlistOfferItem.gsi1pk.remove(),
                    WaitlistOfferItem.gsi1sk.remove(),
                ],
                condition=(WaitlistOfferItem.status == OfferStatus.OPEN.value)
                & (WaitlistOfferItem.token_hash == token_hash)
                & (WaitlistOfferItem.expires_at_instant > now),
            )
            tx.update(
                FreedSlotItem(keys.freed_slot_pk(t, offer.provider_id, to_iso(offer.start)), keys.FREED_SLOT_SK),
                actions=[FreedSlotItem.status.set(SlotStatus.FILLED.value)],
                condition=FreedSlotItem.current_offer_id == offer.id,
            )
            if offer.round_sk:
                tx.update(
                    FreedRoundItem(keys.freed_rounds_pk(t), offer.round_sk),
                    actions=[FreedRoundItem.filled_at.set(now)],
                )

        return add

    def queued(self, tenant_id: str, limit: int) -> list[str]:
        """Offer ids waiting for their mail, oldest first."""
        ensure_bound()
        return [
            item.offer_id
            for item in WaitlistQueuedItem.query(keys.offer_queue_pk(tenant_id), limit=limit)
            if isinstance(item, WaitlistQueuedItem)
        ]

    def release_queued(
        self, offer: WaitlistOffer, window: datetime, limit: int, now: datetime, hold_until: datetime
    ) -> None:
        """A queued offer's mail goes out in this hour: counted, the offer open until `hold_until`
        (its full answer time from now, and its hold with it), off the queue. Raises
        AllowanceUsedError when the hour is full; SlotMovedOnError if it is no longer queued;
        TimeTakenError if its hold was lost."""
        ensure_bound()
        t = offer.tenant_id
        try:
            with transaction() as tx:
                tx.update(
                    WaitlistCounterItem(keys.offer_rate_pk(t), to_iso(window)),
                    actions=[
                        WaitlistCounterItem.tally.add(1),
                        WaitlistCounterItem.type.set(WaitlistCounterItem),
                        WaitlistCounterItem.expires_at.set(window + RATE_RETENTION),
                    ],
                    condition=WaitlistCounterItem.pk.does_not_exist() | (WaitlistCounterItem.tally < limit),
                )
                tx.update(
                    WaitlistOfferItem(keys.offer_pk(t, offer.id), keys.OFFER_SK),
                    actions=[
                        WaitlistOfferItem.status.set(OfferStatus.OPEN.value),
                        WaitlistOfferItem.sent_at.set(now),
                        WaitlistOfferItem.expires_at_instant.set(hold_until),
                    ],
                    condition=WaitlistOfferItem.status == OfferStatus.QUEUED.value,
                )
                tx.delete(
                    WaitlistQueuedItem(keys.offer_queue_pk(t), keys.time_sort_key(to_iso(offer.created_at), offer.id))
                )
                self._extend_locks(tx, offer, hold_until)
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            if 0 in lost:
                raise AllowanceUsedError from exc
            if 1 in lost or 2 in lost:
                raise SlotMovedOnError from exc
            raise TimeTakenError from exc

    def extend_queued_hold(self, offer: WaitlistOffer, hold_until: datetime) -> None:
        """A queued offer that waits another hour keeps holding its time until it is sent.
        Raises SlotMovedOnError if it is no longer queued; TimeTakenError if its hold was lost."""
        ensure_bound()
        try:
            with transaction() as tx:
                tx.update(
                    WaitlistOfferItem(keys.offer_pk(offer.tenant_id, offer.id), keys.OFFER_SK),
                    actions=[WaitlistOfferItem.expires_at_instant.set(hold_until)],
                    condition=WaitlistOfferItem.status == OfferStatus.QUEUED.value,
                )
                self._extend_locks(tx, offer, hold_until)
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            if 0 in lost:
                raise SlotMovedOnError from exc
            raise TimeTakenError from exc

    @staticmethod
    def _extend_locks(tx: TransactWrite, offer: WaitlistOffer, hold_until: datetime) -> None:
        """The offer's lock quanta hold until `hold_until`, if the offer still owns them."""
        for quantum in lock_quanta(offer.occupied_start, offer.occupied_end):
            tx.update(
                LockItem(keys.lock_pk(offer.tenant_id, offer.provider_id), to_iso(quantum)),
                actions=[
                    LockItem.hold_until_epoch.set(int(hold_until.timestamp())),
                    LockItem.expires_at.set(max(offer.occupied_end, hold_until) + LOCK_RETENTION),
                ],
                condition=LockItem.owner == offer.id,
            )

    def drop_queued(self, offer: WaitlistOffer) -> None:
        ensure_bound()
        WaitlistQueuedItem(
            keys.offer_queue_pk(offer.tenant_id), keys.time_sort_key(to_iso(offer.created_at), offer.id)
        ).delete()

    # reports ------------------------------------------------------------------------------------
    def rounds(self, tenant_id: str, start: datetime, end: datetime) -> list[FreedRound]:
        """Freeings whose time was freed in [start, end)."""
        ensure_bound()
        query = FreedRoundItem.query(
            keys.freed_rounds_pk(tenant_id), FreedRoundItem.sk.between(to_iso(start), to_iso(end) + "#")
        )
        return [
            FreedRound(item.freed_at, int(item.offers or 0), item.filled_at)
            for item in query
            if isinstance(item, FreedRoundItem) and start <= item.freed_at < end
        ]

    def offers(self, tenant_id: str, start: datetime, end: datetime) -> list[WaitlistOffer]:
        """Offers made in [start, end)."""
        ensure_bound()
        query = WaitlistOfferItem.gsi2.query(
            keys.offers_gsi_pk(tenant_id),
            WaitlistOfferItem.gsi2sk.between(
                keys.time_sort_key(to_iso(start), ""), keys.time_sort_key(to_iso(end), "")
            ),
        )
        return [_offer(item) for item in query if isinstance(item, WaitlistOfferItem)]
