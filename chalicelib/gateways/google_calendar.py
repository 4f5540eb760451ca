"""Google OAuth and Calendar v3 behind a small interface, over the real google-api-python-client.

The client library and google-auth are imported on first use (googleapiclient costs a lot at
import). Every calendar call goes through `_call`: at most `calls_per_minute` per Google user
in this process (Google's default quota is 600 per minute per user), and exponential backoff
with full jitter on 429, 403 rateLimitExceeded/userRateLimitExceeded and 5xx. A revoked grant
(`invalid_grant` on refresh) is raised as `CalendarGrantRevokedError` and never retried.
Refresh tokens reach this module in plain text only in memory; nothing here logs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.observability import logger

Event = dict[str, Any]
SCOPE = "https://www.googleapis.com/auth/calendar.events"
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"  # noqa: S105 (an endpoint, not a secret)
GOOGLE_REVOKE = "https://oauth2.googleapis.com/revoke"
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class CalendarGrantRevokedError(Exception):
    """The refresh token no longer works (invalid_grant): the connection is broken for good."""


class CalendarUnavailableError(Exception):
    """Google did not answer usefully after the retries (rate limit, 5xx, network): try later."""


class CalendarRequestError(Exception):
    """Google refused the request for good (4xx other than the ones handled)."""


class SyncTokenGoneError(Exception):
    """410 Gone: the sync token is no longer valid; one full resync is needed."""


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next_sync_token: str
    calendar_name: str | None  # the calendar's summary (the account's email for "primary")


@dataclass(frozen=True)
class Channel:
    id: str
    resource_id: str
    expires_at: datetime


def _token_key(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


class UserRateLimiter:
    """A sliding minute per user: the call that would exceed it waits until the oldest leaves."""

    def __init__(self, per_minute: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, user: str) -> None:
        while True:
            with self._lock:
                now = self._clock()
                calls = self._calls.setdefault(user, deque())
                while calls and calls[0] <= now - 60:
                    calls.popleft()
                if len(calls) < self._per_minute:
                    calls.append(now)
                    return
                wait = calls[0] + 60 - now
            self._sleep(max(wait, 0.001))


class GoogleCalendarGateway:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_base: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        calls_per_minute: int = 600,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        base = api_base.rstrip("/") if api_base else None
        self.authorize_endpoint = f"{base}/o/oauth2/v2/auth" if base else GOOGLE_AUTHORIZE
        self.token_endpoint = f"{base}/token" if base else GOOGLE_TOKEN
        self.revoke_endpoint = f"{base}/revoke" if base else GOOGLE_REVOKE
        self._calendar_endpoint = f"{base}/calendar/v3/" if base else None
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._limiter = UserRateLimiter(calls_per_minute, monotonic, sleep)
        self._credentials: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._document: str | None = None

    # --- OAuth -------------------------------------------------------------------------------

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str, login_hint: str | None = None) -> str:
        params = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",  # a refresh token every time, even on a second connection
            "include_granted_scopes": "true",
        }
        if login_hint:
            params["login_hint"] = login_hint
        return self.authorize_endpoint + "?" + urllib.parse.urlencode(params)

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> str:
        """The authorization code (with its PKCE verifier) for a refresh token."""
        answer = self._post_form(
            self.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
        )
        refresh = answer.get("refresh_token")
        if not refresh:
            raise CalendarRequestError("Google returned no refresh token")
        return str(refresh)

    def revoke(self, refresh_token: str) -> None:
        """Revoke the grant; one already revoked counts as done."""
        with contextlib.suppress(CalendarGrantRevokedError):
            self._post_form(self.revoke_endpoint, {"token": refresh_token})
        with self._lock:
            self._credentials.pop(_token_key(refresh_token), None)

    def _post_form(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        data = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (https or the local fake)
        for attempt in range(self._max_attempts):
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (https or the local fake)
                    answer: dict[str, Any] = json.loads(response.read() or b"{}")
                    return answer
            except urllib.error.HTTPError as exc:
                body = _json_or_empty(exc.read())
                if exc.code in (400, 401) and body.get("error") in ("invalid_grant", "invalid_token"):
                    raise CalendarGrantRevokedError(str(body.get("error"))) from exc
                if exc.code < 500 and exc.code != 429:
                    raise CalendarRequestError(f"OAuth endpoint answered {exc.code} {body.get('error')}") from exc
            except OSError:
                pass
            self._backoff(attempt)
        raise CalendarUnavailableError("the OAuth endpoint did not answer")

    # --- Calendar ----------------------------------------------------------------------------

    def insert_event(self, refresh_token: str, calendar_id: str, body: Event) -> bool:
        """True: created. False: an event with that id exists already (409): a replay, done."""
        try:
            self._call(refresh_token, lambda s: s.events().insert(calendarId=calendar_id, body=body))
        except CalendarRequestError as exc:
            if getattr(exc, "status", None) == 409:
                return False
            raise
        return True

    def patch_event(self, refresh_token: str, calendar_id: str, event_id: str, body: Event) -> bool:
        """False when the event is gone (404/410)."""
        try:
            self._call(refresh_token, lambda s: s.events().patch(calendarId=calendar_id, eventId=event_id, body=body))
        except CalendarRequestError as exc:
            if getattr(exc, "status", None) in (404, 410):
                return False
            raise
        return True

    def delete_event(self, refresh_token: str, calendar_id: str, event_id: str) -> bool:
        """False when it was gone already (404/410): deleting twice is harmless."""
        try:
            self._call(refresh_token, lambda s: s.events().delete(calendarId=calendar_id, eventId=event_id))
        except CalendarRequestError as exc:
            if getattr(exc, "status", None) in (404, 410):
                return False
            raise
        return True

    def get_event(self, refresh_token: str, calendar_id: str, event_id: str) -> Event | None:
        try:
            event: Event = self._call(refresh_token, lambda s: s.events().get(calendarId=calendar_id, eventId=event_id))
        except CalendarRequestError as exc:
            if getattr(exc, "status", None) in (404, 410):
                return None
            raise
        return event

    def list_events(
        self, refresh_token: str, calendar_id: str, sync_token: str | None = None, time_min: datetime | None = None
    ) -> EventPage:
        """Every page of an incremental (`sync_token`) or full (`time_min`) list; never both,
        as Google requires. 410 raises SyncTokenGoneError."""
        events: list[Event] = []
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {"calendarId": calendar_id, "maxResults": 250, "singleEvents": True}
            if sync_token:
                params["syncToken"] = sync_token
            elif time_min is not None:
                params["timeMin"] = time_min.astimezone(UTC).isoformat().replace("+00:00", "Z")
            if page_token:
                params["pageToken"] = page_token
            try:
                page: dict[str, Any] = self._call(refresh_token, _lister(params))
            except CalendarRequestError as exc:
                if getattr(exc, "status", None) == 410:
                    raise SyncTokenGoneError("full sync required") from exc
                raise
            events.extend(page.get("items") or [])
            page_token = page.get("nextPageToken")
            if not page_token:
                return EventPage(events, str(page.get("nextSyncToken") or ""), page.get("summary"))

    def watch(
        self, refresh_token: str, calendar_id: str, channel_id: str, token: str, address: str, ttl_seconds: int
    ) -> Channel:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(ttl_seconds)},
        }
        answer: dict[str, Any] = self._call(
            refresh_token, lambda s: s.events().watch(calendarId=calendar_id, body=body)
        )
        expires = datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC)
        return Channel(str(answer["id"]), str(answer["resourceId"]), expires)

    def stop_channel(self, refresh_token: str, channel_id: str, resource_id: str) -> None:
        """Stopping a channel that has already gone is harmless."""
        try:
            self._call(refresh_token, lambda s: s.channels().stop(body={"id": channel_id, "resourceId": resource_id}))
        except CalendarRequestError as exc:
            if getattr(exc, "status", None) != 404:
                raise

    # --- plumbing ----------------------------------------------------------------------------

    def _service(self, refresh_token: str) -> Any:
        from google.oauth2.credentials import Credentials
        from googleapiclient.discovery import build_from_document

        key = _token_key(refresh_token)
        with self._lock:
            credentials = self._credentials.get(key)
            if credentials is None:
                credentials = self._credentials[key] = Credentials(  # type: ignore[no-untyped-call]
                    None,
                    refresh_token=refresh_token,
                    token_uri=self.token_endpoint,
                    client_id=self._client_id,
                    client_secret=self._client_secret,
                    scopes=[SCOPE],
                )
            if self._document is None:
                self._document = _calendar_document()
        options = {"api_endpoint": self._calendar_endpoint} if self._calendar_endpoint else None
        return build_from_document(self._document, credentials=credentials, client_options=options)

    def _call(self, refresh_token: str, request: Callable[[Any], Any]) -> Any:
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        user = _token_key(refresh_token)
        for attempt in range(self._max_attempts):
            self._limiter.acquire(user)
            try:
                return request(self._service(refresh_token)).execute(num_retries=0)
            except RefreshError as exc:
                if "invalid_grant" in str(exc):
                    with self._lock:
                        self._credentials.pop(user, None)
                    raise CalendarGrantRevokedError("invalid_grant") from exc
                logger.warning("token refresh failed; retrying", extra={"attempt": attempt})
            except HttpError as exc:
                status = int(exc.resp.status)
                reasons = {str(d.get("reason")) for d in (exc.error_details or []) if isinstance(d, dict)}
                retry = status == 429 or status >= 500 or (status == 403 and reasons & RATE_LIMIT_REASONS)
                if not retry:
                    error = CalendarRequestError(f"Google Calendar answered {status} {sorted(reasons)}")
                    error.status = status  # type: ignore[attr-defined]
                    raise error from exc
                logger.info("Google Calendar busy; backing off", extra={"status": status, "attempt": attempt})
            except (TransportError, OSError):
                logger.info("Google Calendar unreachable; backing off", extra={"attempt": attempt})
            if attempt + 1 < self._max_attempts:
                self._backoff(attempt)
        raise CalendarUnavailableError("Google Calendar did not answer after retries")

    def _backoff(self, attempt: int) -> None:
        """Full jitter: a random wait up to base * 2^attempt (capped at 32 s)."""
        self._sleep(random.uniform(0, min(32.0, self._base_delay * 2**attempt)))


def _lister(params: dict[str, Any]) -> Callable[[Any], Any]:
    def request(service: Any) -> Any:
        return service.events().list(**params)

    return request


def _json_or_empty(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _calendar_document() -> str:
    """The discovery document the client library ships (no network)."""
    import os

    import googleapiclient

    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents", "calendar.v3.json")
    with open(path, encoding="utf-8") as handle:
        return handle.read()
