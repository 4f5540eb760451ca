"""Google Calendar two-way sync of a provider: connect, push our appointments, pull busy time.

- Connect: OAuth code flow with PKCE. `state` is signed (HMAC), expires, and names the tenant
  and provider; the PKCE verifier is derived from the state with the same key, so nothing is
  stored between the redirect and the callback and only this server can finish the exchange.
- Push (from the dispatcher's effect ledger): the event id derives from the appointment id,
  so a replayed insert answers 409 and counts as done.
- Pull: incremental `events.list` with the stored sync token; a 410 triggers exactly one full
  resync (timeMin = now: events in progress are kept, Google compares timeMin with the end).
- A revoked grant marks the connection `broken` once (a conditional write) and mails the
  business; booking never depends on Google.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import escape
from typing import Any

from chalicelib import config
from chalicelib.domain.appointments import Appointment, AppointmentStatus
from chalicelib.domain.calendar_sync import (
    RENEW_WATCH_TASK,
    ConnectionStatus,
    Event,
    OwnEventChange,
    busy_interval,
    channel_token_hash,
    event_body,
    event_id_for,
    overlaps,
    own_appointment_id,
    own_event_change,
)
from chalicelib.domain.clock import to_iso
from chalicelib.domain.errors import (
    AuthenticationError,
    CalendarGrantRefusedError,
    CalendarUnavailableError,
    NotFoundError,
    OAuthStateError,
    OAuthStateExpiredError,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.schedules import OneTimeSchedule
from chalicelib.gateways import google_calendar as google
from chalicelib.gateways.mail import MailGateway, OutgoingMail
from chalicelib.gateways.scheduler import SchedulerGateway
from chalicelib.gateways.token_cipher import TokenCipher
from chalicelib.observability import logger
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.calendar_connections import CalendarRepository, Connection, ConnectionChangedError
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.effects import EffectLedger
from chalicelib.store.tenants import TenantRepository

STATE_SECONDS = 600
WATCH_TTL_SECONDS = 7 * 24 * 3600
RENEW_BEFORE = timedelta(days=1)
POLL_AFTER = timedelta(minutes=10)  # a calendar synced more recently (push, last poll) is skipped
POLL_BATCH = 50  # calendars per 15-minute run, stalest first: the rest wait for the next run
POLL_SPACING_SECONDS = 0.1  # between two calendars of one run: spreads the calls to Google
WEBHOOK_PATH = "/v1/webhooks/google-calendar"


@dataclass(frozen=True)
class CalendarStatus:
    status: ConnectionStatus
    calendar_id: str | None
    last_sync_at: datetime | None
    watch_expires_at: datetime | None


@dataclass(frozen=True)
class CalendarGateways:
    """Built on first use: google-api-python-client loads only where a calendar is touched."""

    google: Callable[[], google.GoogleCalendarGateway]
    cipher: Callable[[], TokenCipher]
    mail: Callable[[], MailGateway]
    scheduler: Callable[[], SchedulerGateway]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CalendarSync:
    def __init__(
        self,
        calendars: CalendarRepository,
        appointments: AppointmentRepository,
        catalog: CatalogRepository,
        tenants: TenantRepository,
        ledger: EffectLedger,
        gateways: CalendarGateways,
        clock: Callable[[], datetime],
        state_key: Callable[[], bytes],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._calendars = calendars
        self._appointments = appointments
        self._catalog = catalog
        self._tenants = tenants
        self._ledger = ledger
        self._gateways = gateways
        self._clock = clock
        self._state_key = state_key
        self._sleep = sleep

    # --- connect ----------------------------------------------------------------------------

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._state_key(), b"oauth-state\x00" + payload.encode(), hashlib.sha256).digest())

    def _verifier(self, state: str) -> str:
        """The PKCE code verifier of a state (43+ characters of the unreserved set)."""
        return _b64(hmac.new(self._state_key(), b"oauth-pkce\x00" + state.encode(), hashlib.sha256).digest())

    def authorize_url(self, tenant_id: str, provider_id: str) -> str:
        provider = self._catalog.get_provider(tenant_id, provider_id)
        expires = int(self._clock().timestamp()) + STATE_SECONDS
        body = _b64(json.dumps({"t": tenant_id, "p": provider_id, "e": expires, "n": secrets.token_hex(8)}).encode())
        state = f"{body}.{self._sign(body)}"
        challenge = _b64(hashlib.sha256(self._verifier(state).encode()).digest())
        return self._gateways.google().authorize_url(_redirect_uri(), state, challenge, provider.email)

    def state_owner(self, state: str) -> tuple[str, str]:
        """(tenant, provider) a state was issued for; tampered or foreign states are refused."""
        body, _, signature = state.partition(".")
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise OAuthStateError("This authorization request is not valid.")
        try:
            claims = json.loads(_unb64(body))
            tenant_id, provider_id, expires = str(claims["t"]), str(claims["p"]), int(claims["e"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OAuthStateError("This authorization request is not valid.") from exc
        if expires <= self._clock().timestamp():
            raise OAuthStateExpiredError("This authorization request has expired; start again.")
        return tenant_id, provider_id

    def connect(self, tenant_id: str, provider_id: str, code: str, state: str) -> CalendarStatus:
        owner = self.state_owner(state)
        if owner != (tenant_id, provider_id):
            raise OAuthStateError("This authorization request was made for another provider.")
        self._catalog.get_provider(tenant_id, provider_id)
        gateway = self._gateways.google()
        try:
            refresh_token = gateway.exchange_code(code, self._verifier(state), _redirect_uri())
        except (google.CalendarGrantRevokedError, google.CalendarRequestError) as exc:
            raise CalendarGrantRefusedError("Google did not accept this authorization; connect again.") from exc
        except google.CalendarUnavailableError as exc:
            raise CalendarUnavailableError("Google is not answering; try again shortly.") from exc
        previous = self._calendars.get(tenant_id, provider_id)
        if previous is not None and previous.status is not ConnectionStatus.DISCONNECTED:
            self._stop_channel_quietly(previous)
            self._calendars.clear_busy(tenant_id, provider_id)
        ciphertext = self._gateways.cipher().encrypt(refresh_token, _context(tenant_id, provider_id))
        connection = self._calendars.save(
            Connection(
                tenant_id=tenant_id,
                provider_id=provider_id,
                status=ConnectionStatus.CONNECTED,
                calendar_id="primary",
                calendar_name=None,
                refresh_token_ciphertext=ciphertext,
                sync_token=None,
                last_sync_at=None,
                channel_id=None,
                resource_id=None,
                channel_token_hash=None,
                watch_expires_at=None,
                connected_at=self._clock(),
                version=previous.version if previous is not None else 0,
            )
        )
        try:
            connection = self._open_watch(connection, refresh_token)
            self._backfill(connection, refresh_token)
            self.sync(tenant_id, provider_id)
        except google.CalendarUnavailableError:
            logger.warning("calendar connected; first watch/sync deferred to the poll")
        return self.status(tenant_id, provider_id)

    def _backfill(self, connection: Connection, refresh_token: str) -> None:
        """The provider's confirmed appointments still ahead, as events (ids derived: a second
        connection finds them there already, 409)."""
        tenant = self._tenants.get(connection.tenant_id)
        now = self._clock()
        gateway = self._gateways.google()
        horizon = now + timedelta(days=tenant.max_advance_days + 1)
        for appointment in self._appointments.occupancy(connection.tenant_id, now, horizon):
            if (
                appointment.provider_id == connection.provider_id
                and appointment.status is AppointmentStatus.CONFIRMED
                and appointment.end > now
            ):
                gateway.insert_event(
                    refresh_token, connection.calendar_id, event_body(appointment, *self._describe(appointment))
                )

    def complete_callback(self, code: str, state: str) -> tuple[str, str]:
        """The browser's return from Google: the state names the tenant and provider."""
        tenant_id, provider_id = self.state_owner(state)
        self.connect(tenant_id, provider_id, code, state)
        return tenant_id, provider_id

    def status(self, tenant_id: str, provider_id: str) -> CalendarStatus:
        self._catalog.get_provider(tenant_id, provider_id)
        connection = self._calendars.get(tenant_id, provider_id)
        if connection is None:
            return CalendarStatus(ConnectionStatus.DISCONNECTED, None, None, None)
        return CalendarStatus(
            connection.status,
            connection.calendar_name or connection.calendar_id,
            connection.last_sync_at,
            connection.watch_expires_at,
        )

    def disconnect(self, tenant_id: str, provider_id: str) -> None:
        """Stop the channel, revoke the grant at Google, forget it and its busy time."""
        self._catalog.get_provider(tenant_id, provider_id)
        connection = self._calendars.get(tenant_id, provider_id)
        if connection is None:
            return
        token = self._refresh_token(connection)
        if token is not None:
            self._stop_channel_quietly(connection)
            try:
                self._gateways.google().revoke(token)
            except google.CalendarUnavailableError as exc:
                raise CalendarUnavailableError("Google is not answering; the grant is kept, try again.") from exc
            except google.CalendarRequestError:
                logger.warning("revoking the grant was refused; forgetting it anyway")
        self._calendars.delete(tenant_id, provider_id)

    # --- push -------------------------------------------------------------------------------

    def push(self, appointment: Appointment, previous: Appointment | None = None) -> dict[str, Any]:
        """Make the provider's calendar show the appointment as it now is (one event, ever)."""
        if previous is not None and previous.provider_id != appointment.provider_id:
            self._remove_event(previous)
        if appointment.status is not AppointmentStatus.CONFIRMED:
            return self._remove_event(appointment)
        connection, token = self._usable(appointment.tenant_id, appointment.provider_id)
        if connection is None or token is None:
            return {"outcome": "not_connected"}
        body = event_body(appointment, *self._describe(appointment))
        gateway = self._gateways.google()
        try:
            if previous is None or previous.provider_id != appointment.provider_id:
                created = gateway.insert_event(token, connection.calendar_id, body)
                if created:
                    return {"outcome": "inserted", "eventId": body["id"]}
            patch = {k: v for k, v in body.items() if k != "id"} | {"status": "confirmed"}
            if gateway.patch_event(token, connection.calendar_id, body["id"], patch):
                return {"outcome": "patched", "eventId": body["id"]}
            gateway.insert_event(token, connection.calendar_id, body)
            return {"outcome": "inserted", "eventId": body["id"]}
        except google.CalendarGrantRevokedError:
            self._mark_broken(connection)
            return {"outcome": "broken"}

    def _remove_event(self, appointment: Appointment) -> dict[str, Any]:
        connection, token = self._usable(appointment.tenant_id, appointment.provider_id)
        if connection is None or token is None:
            return {"outcome": "not_connected"}
        try:
            deleted = self._gateways.google().delete_event(token, connection.calendar_id, event_id_for(appointment.id))
        except google.CalendarGrantRevokedError:
            self._mark_broken(connection)
            return {"outcome": "broken"}
        return {"outcome": "deleted" if deleted else "absent"}

    def _describe(self, appointment: Appointment) -> tuple[str, str]:
        summary = f"{appointment.service_name}: {appointment.client.name}"
        description = f"Booked through {config.public_base_url()} ({appointment.id}); client {appointment.client.email}"
        return summary, description

    # --- pull -------------------------------------------------------------------------------

    def sync(self, tenant_id: str, provider_id: str) -> dict[str, Any]:
        """Apply what changed in the provider's calendar since the last sync."""
        connection, token = self._usable(tenant_id, provider_id)
        if connection is None or token is None:
            return {"outcome": "not_connected"}
        gateway = self._gateways.google()
        now = self._clock()
        full = connection.sync_token is None
        try:
            try:
                page = gateway.list_events(
                    token, connection.calendar_id, sync_token=connection.sync_token, time_min=now
                )
            except google.SyncTokenGoneError:
                full = True
                page = gateway.list_events(token, connection.calendar_id, time_min=now)
        except google.CalendarGrantRevokedError:
            self._mark_broken(connection)
            return {"outcome": "broken"}
        if full:
            self._calendars.clear_busy(tenant_id, provider_id)
        zone = self._provider_zone(tenant_id, provider_id)
        for event in page.events:
            self._apply(tenant_id, provider_id, event, zone, connection.calendar_name or page.calendar_name)
        self._save_sync(connection, page.next_sync_token, page.calendar_name, now)
        return {"outcome": "full" if full else "incremental", "events": len(page.events)}

    def _save_sync(self, connection: Connection, sync_token: str, calendar_name: str | None, now: datetime) -> None:
        for _ in range(3):
            try:
                self._calendars.save(
                    replace(
                        connection,
                        sync_token=sync_token or None,
                        last_sync_at=now,
                        calendar_name=connection.calendar_name or calendar_name,
                    )
                )
                return
            except ConnectionChangedError:
                fresh = self._calendars.get(connection.tenant_id, connection.provider_id)
                if fresh is None or fresh.status is not ConnectionStatus.CONNECTED:
                    return
                connection = fresh
        raise ConnectionChangedError("the connection kept changing during a sync")

    def _provider_zone(self, tenant_id: str, provider_id: str) -> str:
        provider = self._catalog.get_provider(tenant_id, provider_id)
        return provider.timezone or self._tenants.get(tenant_id).timezone

    def _apply(self, tenant_id: str, provider_id: str, event: Event, zone: str, calendar_email: str | None) -> None:
        appointment_id = own_appointment_id(event)
        if appointment_id is not None:
            self._check_own_event(tenant_id, provider_id, appointment_id, event)
            return
        event_id = str(event.get("id") or "")
        interval = busy_interval(event, zone, calendar_email)
        if interval is None:
            self._calendars.remove_busy(tenant_id, provider_id, event_id)
            return
        self._calendars.put_busy(tenant_id, provider_id, event_id, *interval)
        for appointment in self._appointments.occupancy(tenant_id, interval[0], interval[1]):
            if (
                appointment.provider_id == provider_id
                and appointment.holds_time(self._clock())
                and overlaps(appointment.occupied, interval)
            ):
                self._tell_overlap(appointment, event, interval)

    def _check_own_event(self, tenant_id: str, provider_id: str, appointment_id: str, event: Event) -> None:
        try:
            appointment = self._appointments.get(tenant_id, appointment_id)
        except NotFoundError:
            return
        if appointment.status is not AppointmentStatus.CONFIRMED or appointment.provider_id != provider_id:
            return  # we deleted it ourselves (cancelled, moved to another provider)
        change = own_event_change(event, appointment)
        if change is None:
            return
        if change is OwnEventChange.MOVED and not self._pushed(appointment):
            return  # our own patch for this version is still on its way
        self._appointments.mark_calendar_conflict(tenant_id, appointment_id)

        def tell() -> dict[str, Any]:
            verb = "deleted" if change is OwnEventChange.DELETED else "moved"
            self._mail_business(
                tenant_id,
                f"Calendar conflict: {appointment.service_name} with {appointment.client.name}",
                f"The Google Calendar event of the appointment {appointment.id} "
                f"({appointment.service_name} with {appointment.client.name}, {to_iso(appointment.start)}) "
                f"was {verb} in Google Calendar. The appointment itself is unchanged: reschedule or cancel "
                "it in the dashboard if that is what was meant.",
            )
            return {"change": change.value}

        self._ledger.once(
            tenant_id, appointment_id, appointment.version, f"gcal:conflict:{change.value}", self._clock, tell
        )

    def _pushed(self, appointment: Appointment) -> bool:
        """Did our push of this version finish (a moved event is only a conflict after it)?"""
        done = self._ledger.details(appointment.tenant_id, appointment.id, "#gcal:push")
        return any(d.get("version") == appointment.version for d in done)

    def _tell_overlap(self, appointment: Appointment, event: Event, interval: tuple[datetime, datetime]) -> None:
        key = hashlib.sha256(f"{event.get('id')}|{to_iso(interval[0])}|{to_iso(interval[1])}".encode()).hexdigest()[:16]

        def tell() -> dict[str, Any]:
            self._mail_business(
                appointment.tenant_id,
                f"Calendar overlap: {appointment.service_name} with {appointment.client.name}",
                f"An event in the provider's Google Calendar ({to_iso(interval[0])} to {to_iso(interval[1])}) "
                f"overlaps the booked appointment {appointment.id} ({appointment.service_name} with "
                f"{appointment.client.name}, {to_iso(appointment.start)}). The booking stands; new bookings "
                "cannot take that time.",
            )
            return {"eventId": str(event.get("id")), "start": to_iso(interval[0]), "end": to_iso(interval[1])}

        self._ledger.once(appointment.tenant_id, appointment.id, 0, f"gcal:overlap:{key}", self._clock, tell)

    # --- watch channels ---------------------------------------------------------------------

    def _open_watch(self, connection: Connection, refresh_token: str) -> Connection:
        """A new channel (its own random token, stored hashed), registered and scheduled for
        renewal a day before it expires. The caller stops the previous one afterwards."""
        channel_id = new_id("ch_", 26)
        token = secrets.token_urlsafe(32)
        channel = self._gateways.google().watch(
            refresh_token,
            connection.calendar_id,
            channel_id,
            token,
            config.public_base_url() + WEBHOOK_PATH,
            WATCH_TTL_SECONDS,
        )
        self._calendars.register_channel(channel.id, connection.tenant_id, connection.provider_id, channel.expires_at)
        saved = self._calendars.save(
            replace(
                connection,
                channel_id=channel.id,
                resource_id=channel.resource_id,
                channel_token_hash=channel_token_hash(token),
                watch_expires_at=channel.expires_at,
            )
        )
        now = self._clock()
        renew_at = channel.expires_at - RENEW_BEFORE
        if renew_at <= now:
            renew_at = now + (channel.expires_at - now) / 2
        self._gateways.scheduler().create(
            OneTimeSchedule(
                f"gcal-renew-{channel.id}",
                renew_at,
                {
                    "task": RENEW_WATCH_TASK,
                    "tenantId": connection.tenant_id,
                    "providerId": connection.provider_id,
                    "channelId": channel.id,
                },
            )
        )
        return saved

    def renew_watch(self, payload: Mapping[str, Any]) -> dict[str, str]:
        """The one-time schedule a day before expiry: open the new channel, then stop the old."""
        tenant_id, provider_id = str(payload.get("tenantId")), str(payload.get("providerId"))
        connection, token = self._usable(tenant_id, provider_id)
        if connection is None or token is None or connection.channel_id != payload.get("channelId"):
            return {"outcome": "stale"}
        try:
            renewed = self._open_watch(connection, token)
        except google.CalendarGrantRevokedError:
            self._mark_broken(connection)
            return {"outcome": "broken"}
        self._stop_channel_quietly(connection, token)
        return {"outcome": "renewed", "channelId": str(renewed.channel_id)}

    def _reopen_watch(self, connection: Connection) -> Connection:
        token = self._refresh_token(connection)
        if token is None:
            return connection
        try:
            reopened = self._open_watch(connection, token)
        except google.CalendarGrantRevokedError:
            self._mark_broken(connection)
            return connection
        except (google.CalendarUnavailableError, google.CalendarRequestError, ConnectionChangedError):
            logger.warning("could not reopen a watch channel; the next poll retries")
            return connection
        self._stop_channel_quietly(connection, token)
        return reopened

    def _stop_channel_quietly(self, connection: Connection, token: str | None = None) -> None:
        token = token or self._refresh_token(connection)
        if token is None or not connection.channel_id or not connection.resource_id:
            return
        try:
            self._gateways.google().stop_channel(token, connection.channel_id, connection.resource_id)
        except (google.CalendarGrantRevokedError, google.CalendarUnavailableError, google.CalendarRequestError):
            logger.info("could not stop a watch channel; it expires on its own")

    def notification(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A watch notification: verified by channel token and resource id, it only triggers an
        incremental sync (its content is never trusted)."""
        channel_id = headers.get("x-goog-channel-id") or ""
        presented = headers.get("x-goog-channel-token") or ""
        resource = headers.get("x-goog-resource-id") or ""
        try:
            tenant_id, provider_id = self._calendars.channel_owner(channel_id)
        except NotFoundError as exc:
            raise AuthenticationError("Unknown watch channel.") from exc
        connection = self._calendars.get(tenant_id, provider_id)
        if connection is None or connection.channel_id != channel_id:
            return {"outcome": "stale_channel"}
        token_ok = hmac.compare_digest(
            channel_token_hash(presented).encode(), (connection.channel_token_hash or "").encode()
        )
        resource_ok = hmac.compare_digest(resource.encode(), (connection.resource_id or "").encode())
        if not (token_ok and resource_ok):
            raise AuthenticationError("The channel token or resource does not match.")
        if headers.get("x-goog-resource-state") == "sync":
            return {"outcome": "sync_acknowledged"}
        try:
            result = self.sync(tenant_id, provider_id)
        except google.CalendarUnavailableError as exc:
            raise CalendarUnavailableError("Google is not answering; the notification will be retried.") from exc
        return {"outcome": str(result["outcome"])}

    # --- poll -------------------------------------------------------------------------------

    def poll(self) -> dict[str, int]:
        """Every connected calendar not synced in the last POLL_AFTER, stalest first, spaced.
        A channel that is missing or about to expire (its renewal schedule was lost, or Google
        was down when it should have opened) is reopened here too."""
        now = self._clock()
        due: list[tuple[datetime, Connection]] = []
        for tenant_id, provider_id in self._calendars.every_connection():
            connection = self._calendars.get(tenant_id, provider_id)
            if connection is None or connection.status is not ConnectionStatus.CONNECTED:
                continue
            if connection.watch_expires_at is None or connection.watch_expires_at - now < RENEW_BEFORE / 2:
                connection = self._reopen_watch(connection)
            if connection.last_sync_at is None or now - connection.last_sync_at >= POLL_AFTER:
                due.append((connection.last_sync_at or datetime.min.replace(tzinfo=now.tzinfo), connection))
        due.sort(key=lambda pair: pair[0])
        synced = failed = 0
        for n, (_, connection) in enumerate(due[:POLL_BATCH]):
            if n:
                self._sleep(POLL_SPACING_SECONDS)
            try:
                self.sync(connection.tenant_id, connection.provider_id)
                synced += 1
            except (google.CalendarUnavailableError, google.CalendarRequestError, ConnectionChangedError):
                failed += 1
                logger.warning("a calendar poll failed; the next run retries it")
        return {"due": len(due), "synced": synced, "failed": failed}

    # --- plumbing ---------------------------------------------------------------------------

    def _usable(self, tenant_id: str, provider_id: str) -> tuple[Connection | None, str | None]:
        connection = self._calendars.get(tenant_id, provider_id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            return None, None
        return connection, self._refresh_token(connection)

    def _refresh_token(self, connection: Connection) -> str | None:
        if not connection.refresh_token_ciphertext:
            return None
        return self._gateways.cipher().decrypt(
            connection.refresh_token_ciphertext, _context(connection.tenant_id, connection.provider_id)
        )

    def _mark_broken(self, connection: Connection) -> None:
        """Once per break: the conditional write decides who forgets the busy time and mails the business."""
        try:
            self._calendars.save(replace(connection, status=ConnectionStatus.BROKEN))
        except ConnectionChangedError:
            return
        # Busy time we can no longer keep current must not go on blocking availability.
        self._calendars.clear_busy(connection.tenant_id, connection.provider_id)
        provider = self._catalog.get_provider(connection.tenant_id, connection.provider_id)
        self._mail_business(
            connection.tenant_id,
            f"Google Calendar of {provider.name} disconnected",
            f"Google no longer accepts our access to {provider.name}'s calendar (the access was revoked or "
            "expired). Bookings go on, but they are not written to that calendar and its busy times no longer "
            "block availability. Connect the calendar again from the dashboard.",
        )

    def _mail_business(self, tenant_id: str, subject: str, text: str) -> None:
        from chalicelib.services.mail_content import MailContent
        from chalicelib.services.mime import build_message
        from chalicelib.services.notifications import mail_from

        tenant = self._tenants.get(tenant_id)
        content = MailContent(subject=subject, text=text, html=f"<p>{escape(text)}</p>")
        raw = build_message(
            sender_name=tenant.name,
            sender=mail_from(),
            recipient_name=tenant.name,
            recipient=tenant.email,
            reply_to=None,
            content=content,
            ics=None,
        )
        self._gateways.mail().send(
            OutgoingMail(mail_from(), tenant.email, raw, {"tenant": tenant_id, "kind": "calendar"})
        )


def _redirect_uri() -> str:
    return config.public_base_url() + "/oauth/google/callback"


def _context(tenant_id: str, provider_id: str) -> dict[str, str]:
    return {"tenantId": tenant_id, "providerId": provider_id, "purpose": "google-calendar-refresh-token"}
