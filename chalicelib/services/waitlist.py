"""Waitlist entries: joining, confirming by email, the business's list, VIP flag and removal,
and retirement when the client books a matching time.

An entry receives offers only once its email is confirmed (a single-use link), and one email
holds at most 3 active entries per tenant: the limit is a counter moved in the confirming
transaction, so concurrent confirmations cannot exceed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.appointments import Appointment, ClientInfo
from chalicelib.domain.credentials import hash_secret, same_hash
from chalicelib.domain.errors import ConflictError, NotFoundError, RuleViolationError, TokenGoneError
from chalicelib.domain.ids import new_id
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.waitlist import (
    MAX_ACTIVE_ENTRIES_PER_EMAIL,
    EntryStatus,
    WaitlistEntry,
    WaitWindow,
    retires,
)
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.waitlist import WaitlistRepository


@dataclass(frozen=True)
class JoinRequest:
    service_id: str
    provider_id: str | None
    windows: tuple[WaitWindow, ...]
    client: ClientInfo


class WaitlistService:
    def __init__(self, waitlist: WaitlistRepository, catalog: CatalogRepository, clock: Callable[[], datetime]) -> None:
        self._waitlist = waitlist
        self._catalog = catalog
        self._clock = clock

    def join(self, tenant: Tenant, request: JoinRequest) -> WaitlistEntry:
        """A pending entry; the confirmation mail follows from its stream record."""
        snapshot = self._catalog.snapshot(tenant.id)
        service = snapshot.services.get(request.service_id)
        if service is None or not service.active:
            raise NotFoundError("No such service.")
        if service.capacity > 1:
            raise RuleViolationError("Group classes have no waitlist; book a seat in another session.")
        if request.provider_id is not None:
            provider = snapshot.providers.get(request.provider_id)
            if provider is None or not provider.offers(service.id):
                raise NotFoundError("No such provider for this service.")
        if self._waitlist.active_count(tenant.id, request.client.email) >= MAX_ACTIVE_ENTRIES_PER_EMAIL:
            raise ConflictError(
                f"At most {MAX_ACTIVE_ENTRIES_PER_EMAIL} active waitlist entries per email.",
                {"limit": MAX_ACTIVE_ENTRIES_PER_EMAIL},
            )
        now = self._clock()
        entry = WaitlistEntry(
            id=new_id("wle_"),
            tenant_id=tenant.id,
            service_id=service.id,
            provider_id=request.provider_id,
            windows=request.windows,
            client=request.client,
            status=EntryStatus.PENDING,
            joined_at=now,
            updated_at=now,
        )
        self._waitlist.create_entry(entry)
        return entry

    def confirm(self, tenant_id: str, entry_id: str, token: str) -> WaitlistEntry:
        """The confirmation link's token makes a pending entry active (once: 410 afterwards)."""
        entry = self.get(tenant_id, entry_id)
        stored = self._waitlist.confirm_token_hash(tenant_id, entry_id)
        given = hash_secret(token)
        if entry.status is not EntryStatus.PENDING or stored is None or not same_hash(given, stored):
            raise TokenGoneError("This confirmation link has been used or is not valid.")
        now = self._clock()
        after = replace(entry, status=EntryStatus.ACTIVE, confirmed_at=now, updated_at=now, version=entry.version + 1)
        self._waitlist.change_entry(entry, after, token_hash=stored)
        return after

    def get(self, tenant_id: str, entry_id: str) -> WaitlistEntry:
        entry = self._waitlist.get_entry(tenant_id, entry_id)
        if entry is None:
            raise NotFoundError("No such waitlist entry.")
        return entry

    def page(
        self, tenant_id: str, status: EntryStatus | None, service_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[WaitlistEntry], str | None]:
        """Entries in join order; the cursor is the last entry id of the previous page."""
        found = [
            e
            for e in self._waitlist.entries(tenant_id)
            if (status is None or e.status is status) and (service_id is None or e.service_id == service_id)
        ]
        if cursor:
            ids = [e.id for e in found]
            found = found[ids.index(cursor) + 1 :] if cursor in ids else []
        page = found[:limit]
        return page, (page[-1].id if len(found) > limit else None)

    def set_vip(self, tenant_id: str, entry_id: str, vip: bool) -> WaitlistEntry:
        entry = self.get(tenant_id, entry_id)
        after = replace(entry, vip=vip, updated_at=self._clock(), version=entry.version + 1)
        self._waitlist.change_entry(entry, after)
        return after

    def remove(self, tenant_id: str, entry_id: str, reason: str) -> WaitlistEntry:
        entry = self.get(tenant_id, entry_id)
        if entry.status in (EntryStatus.REMOVED, EntryStatus.BOOKED):
            raise ConflictError(f"This entry is already {entry.status.value}.", {"status": entry.status.value})
        after = replace(
            entry,
            status=EntryStatus.REMOVED,
            removed_reason=reason,
            updated_at=self._clock(),
            version=entry.version + 1,
        )
        self._waitlist.change_entry(entry, after)
        return after

    def retire_for(self, appointment: Appointment) -> list[str]:
        """A booking by an entry's email for a time its windows hold retires the entry."""
        retired = []
        for entry in self._waitlist.entries(appointment.tenant_id):
            if retires(entry, appointment.service_id, appointment.client.email, appointment.start, appointment.end):
                after = replace(entry, status=EntryStatus.BOOKED, updated_at=self._clock(), version=entry.version + 1)
                try:
                    self._waitlist.change_entry(entry, after)
                except ConflictError:
                    continue  # changed meanwhile (removed, confirmed): the next booking may retire it
                retired.append(entry.id)
        return retired
