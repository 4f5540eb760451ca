"""`FakeGoogle`: the server, its state, its push notifications, and the handles tests drive it with."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ._core import OWNER_TOKEN, Core, Failure, GoogleError, Json
from ._http import DEFAULT_EMAIL, Server
from ._push import Pusher

_REASONS = {429: "rateLimitExceeded", 403: "rateLimitExceeded", 400: "invalid_grant", 410: "fullSyncRequired"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class FakeGoogle:
    """A local stand-in for Google OAuth and Calendar v3, driven by the real client libraries.

    >>> fake = FakeGoogle().start()
    >>> build("calendar", "v3", credentials=creds, static_discovery=True,
    ...       client_options={"api_endpoint": fake.calendar_endpoint})
    """

    owner_token = OWNER_TOKEN

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "fake-client.apps.googleusercontent.com",
        client_secret: str = "fake-client-secret",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._host = host
        self._port = port
        self._pusher = Pusher()
        self._core = Core(client_id, client_secret, clock, self._pusher.enqueue)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self._core.client_id

    @property
    def client_secret(self) -> str:
        return self._core.client_secret

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def calendar_endpoint(self) -> str:
        """What `client_options={"api_endpoint": ...}` takes (it replaces root and service path)."""
        return f"{self.url}/calendar/v3/"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def authorize_uri(self) -> str:
        return f"{self.url}/o/oauth2/v2/auth"

    @property
    def revoke_uri(self) -> str:
        return f"{self.url}/revoke"

    @property
    def push_enabled(self) -> bool:
        """False: watch notifications are not sent (tests that cannot receive them)."""
        return self._pusher.enabled

    @push_enabled.setter
    def push_enabled(self, value: bool) -> None:
        self._pusher.enabled = value

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Follow another clock (tests freeze the product's clock; Google's must agree)."""
        self._core.clock = clock

    def start(self) -> FakeGoogle:
        self._server = Server((self._host, self._port), self)
        self._pusher.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-google-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._pusher.stop()

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything (grants, calendars, channels, failures, records); keep serving."""
        self.flush()
        self._core.reset()
        self._pusher.clear()

    # --- what tests look at --------------------------------------------------------------------

    @property
    def requests(self) -> list[Json]:
        with self._core.lock:
            return [dict(r) for r in self._core.requests]

    @property
    def deliveries(self) -> list[Json]:
        return self._pusher.snapshot()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every push notification queued so far has been delivered (or failed)."""
        return self._pusher.flush(timeout)

    def events(self, calendar_id: str, include_deleted: bool = False) -> list[Json]:
        with self._core.lock:
            calendar = self._core.calendar(calendar_id)
            return [
                self._core.public(e)
                for e in sorted(calendar.events.values(), key=lambda e: e["_seq"])
                if include_deleted or e["status"] != "cancelled"
            ]

    def channels(self, calendar_id: str | None = None) -> list[Json]:
        with self._core.lock:
            return [
                dict(c) for c in self._core.channels.values() if calendar_id is None or c["calendarId"] == calendar_id
            ]

    # --- what tests (and a person, through the owner token) do --------------------------------

    def consent(self, authorize_url: str, email: str = DEFAULT_EMAIL, allow: bool = True) -> str:
        """The person's one click on the consent page: returns where Google sends the browser."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        with urllib.request.urlopen(self.authorize_uri + "?" + urlencode(params), timeout=10) as page:
            assert page.status == 200
        form = {**params, "email": email, "decision": "allow" if allow else "deny"}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        request = urllib.request.Request(f"{self.url}/o/oauth2/v2/auth/approve", data=urlencode(form).encode())
        try:
            opener.open(request, timeout=10)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:
                return str(exc.headers["Location"])
            raise
        raise AssertionError("the consent page did not redirect")

    def insert_event(self, calendar_id: str, event: Json) -> Json:
        """The owner adds an event in Google's UI."""
        return self._core.insert(None, calendar_id, event)

    def patch_event(self, calendar_id: str, event_id: str, changes: Json) -> Json:
        return self._core.patch(None, calendar_id, event_id, changes)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        self._core.delete(None, calendar_id, event_id)

    def fail_next(
        self,
        method: str = "*",
        path_prefix: str = "/calendar/",
        status: int = 500,
        reason: str | None = None,
        *,
        times: int = 1,
    ) -> None:
        """The next `times` matching requests answer `status` (429, 403 rateLimitExceeded, 5xx, 400 invalid_grant)."""
        oauth = not path_prefix.startswith("/calendar")
        why = reason or _REASONS.get(status, "backendError")
        error = GoogleError(status, why, f"Injected failure ({why}).", oauth=oauth)
        with self._core.lock:
            self._core.failures.append(Failure(method, path_prefix, error, times))

    def set_rate_limit(self, calls_per_minute: int | None) -> None:
        """A per-user quota: beyond it, calendar calls answer 403 rateLimitExceeded."""
        with self._core.lock:
            self._core.calls_per_minute = calls_per_minute

    def revoke_grants(self, email: str) -> int:
        """The person removes our access in their Google account: refreshes answer invalid_grant."""
        with self._core.lock:
            grants = [g for g in self._core.grants.values() if g.email == email and not g.revoked]
            for grant in grants:
                self._core.revoke(grant.refresh_token)
            return len(grants)

    def expire_access_tokens(self) -> None:
        """Every access token stops working now (the client must refresh)."""
        with self._core.lock:
            for access in self._core.access.values():
                access["expires"] = 0

    def invalidate_sync_tokens(self, calendar_id: str) -> None:
        """Every sync token issued for the calendar so far answers 410 Gone."""
        self._core.invalidate_sync_tokens(calendar_id)

    def grants(self, email: str | None = None) -> list[Json]:
        with self._core.lock:
            return [
                {"email": g.email, "revoked": g.revoked, "scope": g.scope}
                for g in self._core.grants.values()
                if email is None or g.email == email
            ]

    def config(self) -> Json:
        return {"url": self.url, "clientId": self.client_id, "ownerToken": OWNER_TOKEN}
