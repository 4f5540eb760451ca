"""`FakeStripe`: the server, its state, its webhooks, and the handles tests drive it with."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from ._checkout import complete_session
from ._connect import complete_onboarding
from ._core import Core, Decline, Failure
from ._endpoints import install
from ._http import Server
from ._params import Json
from ._webhooks import Deliverer, sign

DEFAULT_API_VERSION = "2026-10-28.endive"  # what stripe==16.1.0 sends; events carry it


class FakeStripe:
    """A local stand-in for the parts of Stripe this product uses, driven by the real `stripe` SDK.

    >>> fake = FakeStripe().start()
    >>> client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url})
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "sk_test_fake",
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        public_url: str | None = None,
        enabled_events: Iterable[str] = ("*",),
        api_version: str = DEFAULT_API_VERSION,
        clock: Callable[[], float] = time.time,
        sweep_interval: float = 1.0,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret or "whsec_" + secrets.token_hex(24)
        self.webhook_url = webhook_url  # where signed events are POSTed; None: recorded only
        self.enabled_events = list(enabled_events)  # event types delivered ("*": all); all are recorded
        self._public_url = public_url
        self._host = host
        self._port = port
        self._sweep_interval = sweep_interval
        self._webhooks = Deliverer(lambda: self.webhook_secret, lambda: self.webhook_url, self._wants)
        self._core = Core(api_key, api_version, clock, lambda: self.public_url, self._webhooks.enqueue)
        install(self._core)
        self._server: Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle -----------------------------------------------------------------------------

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Follow another clock (tests freeze the product's clock; Stripe's must agree)."""
        self._core.clock = clock

    def start(self) -> FakeStripe:
        self._server = Server((self._host, self._port), self)
        self._stopping.clear()
        self._webhooks.start()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-stripe-http", daemon=True),
            threading.Thread(target=self._sweep, name="fake-stripe-expiry", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._webhooks.stop()
        self._server = None
        self._threads = []

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base address of the API (and of everything else): http://127.0.0.1:<port>."""
        if self._server is None:
            raise RuntimeError("FakeStripe is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def public_url(self) -> str:
        """Where hosted pages (Checkout, onboarding) are served as seen by a browser; `url` by default."""
        return (self._public_url or self.url).rstrip("/")

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        self._public_url = value

    def config(self) -> Json:
        return {
            "url": self.url if self._server else None,
            "public_url": self.public_url if self._server or self._public_url else None,
            "webhook_url": self.webhook_url,
            "enabled_events": self.enabled_events,
        }

    def _sweep(self) -> None:
        while not self._stopping.wait(self._sweep_interval):
            self._core.expire_due()

    def _wants(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events

    # --- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Json]:
        """Every API call: method, path, params (parsed), idempotency_key, account, stripe_version, status."""
        with self._core.lock:
            return copy.deepcopy(self._core.requests)

    @property
    def events(self) -> list[Json]:
        """Every event generated, delivered or not, oldest first."""
        with self._core.lock:
            return copy.deepcopy(self._core.events)

    @property
    def deliveries(self) -> list[Json]:
        """Every webhook delivery attempt: event, type, url, status (HTTP) and error."""
        return self._webhooks.snapshot()

    def get(self, object_id: str) -> Json | None:
        """Any object by id, whichever account owns it (a copy)."""
        with self._core.lock:
            found = self._core.objects.get(object_id)
            return copy.deepcopy(found) if found is not None else None

    def reset(self) -> None:
        """Forget every object, event, request, injected failure and idempotency key (config stays)."""
        self.flush()
        self._core.reset()
        self._webhooks.clear()

    # --- driving it ----------------------------------------------------------------------------

    def complete_session(
        self, session_id: str, *, card: str = "pm_card_visa", email: str | None = None, wait: float = 10.0
    ) -> Json:
        """What paying on the hosted page does; returns the session once its webhooks were delivered.

        Raises FakeStripeError: 402 for a declined card (the session stays open), 400 if not open.
        """
        with self._core.lock:
            session = copy.deepcopy(complete_session(self._core, session_id, card, email))
        self.flush(wait)
        return session

    def complete_onboarding(self, account_id: str, *, wait: float = 10.0) -> Json:
        """What finishing the onboarding page does: charges, payouts and details enabled, `account.updated`."""
        with self._core.lock:
            account = copy.deepcopy(complete_onboarding(self._core, account_id))
        self.flush(wait)
        return account

    def expire_due(self) -> int:
        """Expire the open Checkout Sessions whose `expires_at` has passed (a thread also does it every second)."""
        return self._core.expire_due()

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        error: Json,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` matching API calls with `status` and `{"error": error}`, before anything runs.

        Nothing is stored under their idempotency key, so the SDK's retries behave as against a flaky Stripe.
        `method` may be "*". Example: fail_next("POST", "/v1/refunds", 500, {"type": "api_error", "message": "x"}).
        """
        answer_headers = {"Content-Type": "application/json", **(headers or {})}
        with self._core.lock:
            self._core.failures.append(Failure(method.upper(), path_prefix, status, error, answer_headers, times))

    def decline_next(
        self,
        *,
        code: str = "card_declined",
        decline_code: str = "generic_decline",
        message: str = "Your card was declined.",
    ) -> None:
        """Decline the next payment confirmation (API or hosted page) whatever the card, as Stripe would."""
        with self._core.lock:
            self._core.declines.append(Decline(code, decline_code, message))

    # --- webhooks ------------------------------------------------------------------------------

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """A valid `Stripe-Signature` header for `payload` (now, unless `timestamp` is given)."""
        return sign(self.webhook_secret, payload, timestamp)

    def send_event(self, event: Json) -> Json | None:
        """POST `event` (signed) to webhook_url now; returns the delivery record (None without a webhook_url)."""
        return self._webhooks.send(event)

    def resend(self, event_id: str) -> Json | None:
        """Deliver a past event again, as Stripe's retries and the dashboard's "Resend" do."""
        with self._core.lock:
            found = [event for event in self._core.events if event["id"] == event_id]
        if not found:
            raise KeyError(event_id)
        return self.send_event(found[0])

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event generated so far has been delivered; False on timeout."""
        return self._webhooks.flush(timeout)
