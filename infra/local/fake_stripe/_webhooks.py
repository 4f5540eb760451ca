"""Signed webhook deliveries, made in order by one background thread, as Stripe makes them: after the fact."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Json = dict[str, Any]
DELIVERY_TIMEOUT_SECONDS = 10.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe does not follow redirects: a 3xx answer is a failed delivery."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def sign(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send with `payload`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


class Deliverer:
    def __init__(
        self, secret: Callable[[], str], target: Callable[[], str | None], wants: Callable[[str], bool]
    ) -> None:
        self._secret = secret
        self._target = target
        self._wants = wants
        self._queue: queue.Queue[Json | None] = queue.Queue()
        self._lock = threading.Lock()
        self.deliveries: list[Json] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-stripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)
            self._thread = None

    def snapshot(self) -> list[Json]:
        with self._lock:
            return [dict(record) for record in self.deliveries]

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()

    def enqueue(self, event: Json) -> None:
        self._queue.put(event)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued event has been delivered (or has failed to be)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                if self._wants(event["type"]):
                    self.send(event)
            finally:
                self._queue.task_done()

    def send(self, event: Json) -> Json | None:
        """POST one event to the webhook URL; the outcome is recorded (and answered), never raised."""
        url = self._target()
        if not url:
            return None
        payload = json.dumps(event, indent=2).encode()
        request = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(self._secret(), payload),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        record: Json = {"event": event.get("id"), "type": event.get("type"), "url": url, "status": None, "error": None}
        try:
            with _OPENER.open(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                record["status"] = response.status
                if not 200 <= response.status < 300:
                    record["error"] = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
            record["error"] = f"HTTP {exc.code}"
        except Exception as exc:  # whatever the receiver does, it is recorded, never raised
            record["error"] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.deliveries.append(record)
        return record
