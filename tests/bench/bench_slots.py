"""Slot engine benchmark: 30 days x 5 providers x 500 bookings each, against a CPU yardstick.

Run with `python -m tests.bench.bench_slots`. The target is an engine median no more than
0.20 x the median of `sum(range(10**6))` timed in the same process, so the figure travels
between machines. It reports and never asserts: timing belongs in a human's judgement, not CI.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.slots import (
    BookingRules,
    DateOverride,
    Occupancy,
    ProviderCalendar,
    ServiceSpec,
    Slot,
    WeeklyRule,
    compute_slots,
    occupied_interval,
)

FIRST_DAY = date(2027, 3, 1)
DAYS = 30
PROVIDERS = 5
BOOKINGS_PER_PROVIDER = 500
ROUNDS = 3
RUNS_PER_ROUND = 7
RUNS = ROUNDS * RUNS_PER_ROUND
TARGET_RATIO = 0.20

SERVICE = ServiceSpec(
    service_id="massage-30",
    duration_minutes=30,
    buffer_before_minutes=10,
    buffer_after_minutes=5,
    interval_minutes=15,
    capacity=1,
)
RULES = BookingRules(now=datetime(2027, 2, 28, 12, 0, tzinfo=UTC), min_notice_minutes=120, max_advance_days=60)
CLIENT_ZONE = "America/New_York"
PROVIDER_ZONE = "America/New_York"


def build_calendars(seed: int = 7) -> list[ProviderCalendar]:
    """Five Mon-Fri 09:00-17:00 providers with a few overrides and 500 bookings each (overlaps allowed)."""
    rng = random.Random(seed)
    weekdays = tuple(WeeklyRule(day, "09:00", "17:00", None) for day in range(5))
    start_of_range = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    calendars: list[ProviderCalendar] = []
    for number in range(PROVIDERS):
        overrides = {
            FIRST_DAY + timedelta(days=3 + number): DateOverride(FIRST_DAY + timedelta(days=3 + number), ()),
            FIRST_DAY + timedelta(days=12): DateOverride(FIRST_DAY + timedelta(days=12), (("10:00", "14:00"),)),
            FIRST_DAY + timedelta(days=19): DateOverride(
                FIRST_DAY + timedelta(days=19), (("08:00", "12:00"), ("13:00", "24:00"))
            ),
        }
        occupied = []
        for _ in range(BOOKINGS_PER_PROVIDER):
            start = start_of_range + timedelta(minutes=15 * rng.randrange(DAYS * 24 * 4))
            low, high = occupied_interval(start, start + timedelta(minutes=30), 10, 5)
            occupied.append(Occupancy(low, high))
        calendars.append(
            ProviderCalendar(
                provider_id=f"provider-{number}",
                timezone=PROVIDER_ZONE,
                rules=weekdays,
                overrides=overrides,
                occupied=tuple(occupied),
            )
        )
    return calendars


def timed(action: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    calendars = build_calendars()
    last_day = FIRST_DAY + timedelta(days=DAYS - 1)

    def engine() -> list[Slot]:
        return compute_slots(SERVICE, calendars, RULES, FIRST_DAY, last_day, CLIENT_ZONE)

    def calibration() -> int:
        return sum(range(10**6))

    slot_count = len(engine())
    # Rounds of each, so that a busy neighbour slows both alike without the yardstick's
    # million integers evicting the engine's working set before every single run.
    engine_runs: list[float] = []
    calibration_runs: list[float] = []
    for _ in range(ROUNDS):
        calibration_runs.extend(timed(calibration) for _ in range(RUNS_PER_ROUND))
        engine_runs.extend(timed(engine) for _ in range(RUNS_PER_ROUND))
    calibration_ms = statistics.median(calibration_runs) * 1000
    engine_ms = statistics.median(engine_runs) * 1000
    print(f"slots returned  {slot_count}")
    print(f"calibration ms  {calibration_ms:.2f}  (sum(range(10**6)), median of {RUNS})")
    print(f"engine ms       {engine_ms:.2f}  ({DAYS} days x {PROVIDERS} providers x {BOOKINGS_PER_PROVIDER} bookings)")
    print(f"ratio           {engine_ms / calibration_ms:.3f}  (target <= {TARGET_RATIO:.2f})")


if __name__ == "__main__":
    main()
