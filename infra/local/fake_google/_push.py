"""Watch-channel notifications, POSTed in order by one background thread, as Google sends them.

The body is empty; everything is in the `X-Goog-*` headers. A failed delivery is recorded,
never retried (Google retries with backoff for a while; the product polls anyway).
"""

from __future__ import annotations

import queue
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

Json = dict[str, Any]
DELIVERY_TIMEOUT_SECONDS = 10.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Pusher:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Json, str, int] | None] = queue.Queue()
        self._lock = threading.Lock()
        self.deliveries: list[Json] = []
        self._thread: threading.Thread | None = None
        self.enabled = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-google-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)
            self._thread = None

    def enqueue(self, channel: Json, state: str, number: int) -> None:
        if self.enabled:
            self._queue.put((channel, state, number))

    def snapshot(self) -> list[Json]:
        with self._lock:
            return [dict(record) for record in self.deliveries]

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()

    def flush(self, timeout: float) -> bool:
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
            item = self._queue.get()
            try:
                if item is None:
                    return
                self.send(*item)
            finally:
                self._queue.task_done()

    def send(self, channel: Json, state: str, number: int) -> Json:
        expiration = datetime.fromtimestamp(int(channel["expiration"]) / 1000, UTC)
        headers = {
            "X-Goog-Channel-ID": str(channel["id"]),
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": str(channel["resourceId"]),
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": str(channel["resourceUri"]),
            "X-Goog-Channel-Expiration": format_datetime(expiration, usegmt=True),
            "Content-Length": "0",
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
        }
        if channel.get("token"):
            headers["X-Goog-Channel-Token"] = str(channel["token"])
        record: Json = {"channel": channel["id"], "state": state, "number": number, "url": channel["address"]}
        request = urllib.request.Request(channel["address"], data=b"", method="POST", headers=headers)
        try:
            with _OPENER.open(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                record["status"] = response.status
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
        except Exception as exc:  # whatever the receiver does is recorded, never raised
            record["status"] = None
            record["error"] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.deliveries.append(record)
        return record
