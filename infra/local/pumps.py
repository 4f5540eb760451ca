"""Where the local stack makes asynchronous AWS behaviour happen.

On AWS, the table's stream, SQS queues and EventBridge Scheduler call our handlers; on
the emulator nothing calls them (moto's schedules never fire, nothing polls streams or
queues). A `Pump` does one round of that delivery into the same handler Lambda would
call; the runner calls every registered pump in a loop on a background thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.observability import logger


@dataclass
class Pump:
    name: str
    run_once: Callable[[], int]  # delivers what is due; returns how many events it delivered


@dataclass
class PumpRunner:
    interval_seconds: float = 0.5
    pumps: list[Pump] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def register(self, pump: Pump) -> None:
        self.pumps.append(pump)

    def run_once(self) -> int:
        """One round over every pump; a failing pump is logged and retried next round."""
        delivered = 0
        for pump in self.pumps:
            try:
                delivered += pump.run_once()
            except Exception:
                logger.exception("local pump failed", extra={"pump": pump.name})
        return delivered

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-pumps", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
