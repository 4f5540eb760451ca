"""Running the same attempt on many threads released at once (the race tests' one tool)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def race(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """attempt(0..count-1) on `count` threads released together; each result or the exception raised."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = attempt(i)
        except BaseException as exc:  # collected, then asserted on
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
