"""Google Calendar connections, their watch channels and the busy time synced from them.

The refresh token is stored only as KMS ciphertext (the service encrypts it). Busy time lives
in one partition per tenant (`T#<t>#BUSY`) in pieces of at most a day, so availability
reads a range of it with one query whatever the number of providers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.calendar_sync import PIECE, BusyBlock, ConnectionStatus, pieces
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import NotFoundError
from chalicelib.store import keys
from chalicelib.store.appointments import TransactionPart
from chalicelib.store.models import (
    BusyPieceItem,
    BusyVersionItem,
    CalendarChannelItem,
    CalendarConnectionItem,
    CalendarEventItem,
    TableItem,
)
from chalicelib.store.table import ensure_bound, is_condition_failure

BUSY_RETENTION = timedelta(days=1)


class ConnectionChangedError(Exception):
    """The connection was changed by another writer since it was read."""


@dataclass(frozen=True)
class Connection:
    tenant_id: str
    provider_id: str
    status: ConnectionStatus
    calendar_id: str
    calendar_name: str | None
    refresh_token_ciphertext: str | None
    sync_token: str | None
    last_sync_at: datetime | None
    channel_id: str | None
    resource_id: str | None
    channel_token_hash: str | None
    watch_expires_at: datetime | None
    connected_at: datetime
    version: int = 0


def _connection(item: CalendarConnectionItem) -> Connection:
    return Connection(
        tenant_id=item.tenant_id,
        provider_id=item.provider_id,
        status=ConnectionStatus(item.status),
        calendar_id=item.calendar_id,
        calendar_name=item.calendar_name,
        refresh_token_ciphertext=item.refresh_token_ciphertext,
        sync_token=item.sync_token,
        last_sync_at=item.last_sync_at,
        channel_id=item.channel_id,
        resource_id=item.resource_id,
        channel_token_hash=item.channel_token_hash,
        watch_expires_at=item.watch_expires_at,
        connected_at=item.connected_at,
        version=int(item.version or 0),
    )


class CalendarRepository:
    # --- connections --------------------------------------------------------------------------

    def get(self, tenant_id: str, provider_id: str) -> Connection | None:
        ensure_bound()
        try:
            item = CalendarConnectionItem.get(
                keys.calendar_pk(tenant_id, provider_id), keys.CONNECTION_SK, consistent_read=True
            )
        except DoesNotExist:
            return None
        return _connection(item)

    def save(self, connection: Connection) -> Connection:
        """Write the connection under the version read (0: a new one): a concurrent writer loses."""
        ensure_bound()
        connected = connection.status is not ConnectionStatus.DISCONNECTED
        item = CalendarConnectionItem(
            keys.calendar_pk(connection.tenant_id, connection.provider_id),
            keys.CONNECTION_SK,
            gsi1pk=keys.CONNECTIONS_GSI_PK if connected else None,
            gsi1sk=f"{connection.tenant_id}#{connection.provider_id}" if connected else None,
            tenant_id=connection.tenant_id,
            provider_id=connection.provider_id,
            status=connection.status.value,
            calendar_id=connection.calendar_id,
            calendar_name=connection.calendar_name,
            refresh_token_ciphertext=connection.refresh_token_ciphertext,
            sync_token=connection.sync_token,
            last_sync_at=connection.last_sync_at,
            channel_id=connection.channel_id,
            resource_id=connection.resource_id,
            channel_token_hash=connection.channel_token_hash,
            watch_expires_at=connection.watch_expires_at,
            connected_at=connection.connected_at,
        )
        if connection.version:
            item.version = connection.version
        try:
            item.save()
        except PutError as exc:
            if is_condition_failure(exc):
                raise ConnectionChangedError("the calendar connection changed meanwhile") from exc
            raise
        return _connection(item)

    def delete(self, tenant_id: str, provider_id: str) -> None:
        """Forget the grant, its busy time and its event map (the channel registry item stays
        until its channel expires: a late notification then finds no connection)."""
        ensure_bound()
        self.clear_busy(tenant_id, provider_id)
        # Unconditional (a versioned model's delete() would require the version read): forgetting wins.
        CalendarConnectionItem._get_connection().delete_item(
            keys.calendar_pk(tenant_id, provider_id), keys.CONNECTION_SK
        )

    def every_connection(self) -> Iterator[tuple[str, str]]:
        """(tenant, provider) of every connected or broken calendar (platform-wide: the poller)."""
        ensure_bound()
        for item in CalendarConnectionItem.gsi1.query(keys.CONNECTIONS_GSI_PK):
            if isinstance(item, CalendarConnectionItem):
                yield item.tenant_id, item.provider_id

    # --- channels -----------------------------------------------------------------------------

    def register_channel(self, channel_id: str, tenant_id: str, provider_id: str, expires_at: datetime) -> None:
        ensure_bound()
        CalendarChannelItem(
            keys.channel_pk(channel_id),
            keys.CHANNEL_SK,
            tenant_id=tenant_id,
            provider_id=provider_id,
            expires_at=expires_at + timedelta(days=1),
        ).save()

    def channel_owner(self, channel_id: str) -> tuple[str, str]:
        ensure_bound()
        try:
            item = CalendarChannelItem.get(keys.channel_pk(channel_id), keys.CHANNEL_SK)
        except DoesNotExist as exc:
            raise NotFoundError("No such channel.") from exc
        return item.tenant_id, item.provider_id

    # --- busy time ----------------------------------------------------------------------------

    # A booking reads the provider's busy version, then its busy time (both consistently), and
    # commits only if the version is unchanged; a change bumps the version BEFORE it writes. So a
    # booking either saw a busy block or conflicts with the bump that came before it.
    def busy_versions(self, tenant_id: str) -> dict[str, int]:
        """Provider id -> version of its busy time (absent: 0), one consistent query."""
        ensure_bound()
        return {
            item.sk: int(item.version or 0)
            for item in BusyVersionItem.query(keys.busy_versions_pk(tenant_id), consistent_read=True)
            if isinstance(item, BusyVersionItem)
        }

    def bump_busy_version(self, tenant_id: str, provider_id: str) -> None:
        ensure_bound()
        BusyVersionItem(keys.busy_versions_pk(tenant_id), provider_id).update(
            actions=[BusyVersionItem.version.add(1), BusyVersionItem.type.set(BusyVersionItem)]
        )

    def busy_guard(self, tenant_id: str, provider_id: str, version: int) -> TransactionPart:
        """A condition for a booking's transaction: the provider's busy time is as it was read."""
        item = BusyVersionItem(keys.busy_versions_pk(tenant_id), provider_id)
        unchanged = BusyVersionItem.version == version
        condition = (BusyVersionItem.pk.does_not_exist() | unchanged) if version == 0 else unchanged

        def check(tx: TransactWrite) -> None:
            tx.condition_check(BusyVersionItem, item.pk, item.sk, condition=condition)

        return check

    def put_busy(self, tenant_id: str, provider_id: str, event_id: str, start: datetime, end: datetime) -> None:
        """Replace the busy time of one external event with [start, end)."""
        ensure_bound()
        self.bump_busy_version(tenant_id, provider_id)
        self.remove_busy(tenant_id, provider_id, event_id, bumped=True)
        piece_keys = []
        with BusyPieceItem.batch_write() as batch:
            for n, (low, high) in enumerate(pieces(start, end)):
                sk = keys.busy_piece_sk(to_iso(low), provider_id, event_id, n)
                piece_keys.append(sk)
                batch.save(
                    BusyPieceItem(
                        keys.busy_pk(tenant_id),
                        sk,
                        provider_id=provider_id,
                        event_id=event_id,
                        start=to_iso(low),
                        end=to_iso(high),
                        expires_at=high + BUSY_RETENTION,
                    )
                )
        CalendarEventItem(
            keys.calendar_pk(tenant_id, provider_id),
            keys.calendar_event_sk(event_id),
            provider_id=provider_id,
            event_id=event_id,
            start=to_iso(start),
            end=to_iso(end),
            piece_keys=piece_keys,
            expires_at=end + BUSY_RETENTION,
        ).save()

    def remove_busy(self, tenant_id: str, provider_id: str, event_id: str, bumped: bool = False) -> None:
        ensure_bound()
        try:
            event = CalendarEventItem.get(keys.calendar_pk(tenant_id, provider_id), keys.calendar_event_sk(event_id))
        except DoesNotExist:
            return
        if not bumped:
            self.bump_busy_version(tenant_id, provider_id)
        self._drop(tenant_id, [event])

    def clear_busy(self, tenant_id: str, provider_id: str) -> None:
        """Every busy block of the provider (before a full resync, or on disconnect)."""
        ensure_bound()
        events = [
            item
            for item in CalendarEventItem.query(
                keys.calendar_pk(tenant_id, provider_id),
                CalendarEventItem.sk.startswith(keys.CALENDAR_EVENT_PREFIX),
            )
            if isinstance(item, CalendarEventItem)
        ]
        if events:
            self.bump_busy_version(tenant_id, provider_id)
        self._drop(tenant_id, events)

    def _drop(self, tenant_id: str, events: list[CalendarEventItem]) -> None:
        with TableItem.batch_write() as batch:
            for event in events:
                for sk in event.piece_keys or []:
                    batch.delete(BusyPieceItem(keys.busy_pk(tenant_id), sk))
                batch.delete(event)

    def busy_between(self, tenant_id: str, start: datetime, end: datetime) -> list[BusyBlock]:
        """Busy pieces of every provider meeting [start, end): one query (pieces last <= a day)."""
        ensure_bound()
        low = to_iso(start - PIECE)
        high = to_iso(end) + "~"
        found = []
        query = BusyPieceItem.query(keys.busy_pk(tenant_id), BusyPieceItem.sk.between(low, high), consistent_read=True)
        for item in query:
            if not isinstance(item, BusyPieceItem):
                continue
            block = BusyBlock(item.provider_id, item.event_id, from_iso(item.start), from_iso(item.end))
            if block.end > start and block.start < end:
                found.append(block)
        return found
