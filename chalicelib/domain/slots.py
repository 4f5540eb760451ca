"""The slot engine: which starts a service can be booked at, and why a requested one cannot.

Pure functions over dataclasses; the clock comes in as `BookingRules.now`. Availability
listing (`compute_slots`) and the booking re-check (`check_start`) share one code path, so a
start is offered exactly when a booking at it is accepted. See API.md "Slot semantics".

Internally instants are whole UTC seconds (ints). `windows` turns wall-clock rules into
UTC windows; `slot_conflicts` indexes occupied time for `bisect`. On a date with one UTC
offset the aligned starts of a window are an arithmetic progression, cut where bookings
are and produced with `range`, so the cost follows windows and bookings, not candidate
starts times bookings.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from operator import add
from zoneinfo import ZoneInfo

from chalicelib.domain.slot_conflicts import NOTHING_BLOCKS, Blocking, Occupancy
from chalicelib.domain.windows import (
    DateOverride,
    WeeklyRule,
    WindowPlan,
    ZoneClock,
    add_days,
    epoch_ceil,
    exact_epoch,
)

__all__ = [
    "BookingRules",
    "DateOverride",
    "Occupancy",
    "ProviderCalendar",
    "ServiceSpec",
    "Slot",
    "StartRejection",
    "WeeklyRule",
    "check_start",
    "compute_slots",
    "local_start",
    "occupied_interval",
]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ProviderCalendar:
    """Everything about one provider that decides which starts they offer."""

    provider_id: str
    timezone: str  # IANA; rules and overrides are in this zone's wall time
    rules: tuple[WeeklyRule, ...]
    overrides: Mapping[date, DateOverride]  # replaces the weekly rules for that local date
    occupied: tuple[Occupancy, ...]  # confirmed appointments, unexpired holds, external busy blocks
    seats_taken: Mapping[datetime, int] = field(default_factory=dict)  # this service: session start -> seats


@dataclass(frozen=True)
class ServiceSpec:
    """The shape of one bookable service, in minutes."""

    service_id: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    interval_minutes: int
    capacity: int  # 1 = one-to-one, >1 = group class

    def __post_init__(self) -> None:
        # A zero step would never advance and negative buffers break the conflict index; the
        # API validates services, so reaching this is a programming error.
        if self.duration_minutes <= 0 or self.interval_minutes <= 0 or self.capacity < 1:
            raise ValueError("duration and interval must be positive and capacity at least 1")
        if self.buffer_before_minutes < 0 or self.buffer_after_minutes < 0:
            raise ValueError("buffers cannot be negative")


@dataclass(frozen=True)
class BookingRules:
    """The tenant's booking window, anchored at an explicit `now`."""

    now: datetime  # tz-aware
    min_notice_minutes: int
    max_advance_days: int


@dataclass(frozen=True)
class Slot:
    """One bookable start and every provider offering it."""

    start: datetime  # UTC
    end: datetime  # UTC, start + duration
    provider_ids: tuple[str, ...]  # sorted
    seats_left: int | None  # None for one-to-one; for classes the most seats any listed provider has left


class StartRejection(enum.Enum):
    """Why a requested start cannot be booked; maps to 422 and 409 respectively."""

    OUTSIDE_AVAILABILITY = "outside_availability"  # not a window/aligned/fit/notice/horizon start
    SLOT_UNAVAILABLE = "slot_unavailable"  # would be offered but for a booking, hold, busy block or full class


def occupied_interval(
    start: datetime, end: datetime, buffer_before_minutes: int, buffer_after_minutes: int
) -> tuple[datetime, datetime]:
    """The time a booking takes from its provider: the appointment widened by its service's buffers."""
    return start - timedelta(minutes=buffer_before_minutes), end + timedelta(minutes=buffer_after_minutes)


def local_start(slot_start: datetime, client_timezone: str) -> datetime:
    """A slot start as the client reads it (the API's `localStart`)."""
    return slot_start.astimezone(ZoneInfo(client_timezone))


def compute_slots(
    service: ServiceSpec,
    calendars: Sequence[ProviderCalendar],
    rules: BookingRules,
    start_date: date,
    end_date: date,
    client_timezone: str,
) -> list[Slot]:
    """Bookable starts in [start_date 00:00, end_date + 1 00:00) of the client's zone, sorted.

    One entry per start, listing every provider that offers it.
    """
    _require_aware(rules.now, "BookingRules.now")
    if end_date < start_date:
        return []
    client = ZoneClock(ZoneInfo(client_timezone))
    lower = client.bound_to_epoch(start_date, 0)
    upper = client.bound_to_epoch(add_days(end_date, 1), 0) - 1
    clocks: dict[str, ZoneClock] = {}
    providers: dict[int, list[str]] = {}
    seats_left: dict[int, int] = {}
    # Visiting providers in id order keeps each start's provider list sorted as it grows.
    for calendar in sorted(calendars, key=lambda calendar: calendar.provider_id):
        clock = clocks.get(calendar.timezone)
        if clock is None:
            clock = clocks[calendar.timezone] = ZoneClock(ZoneInfo(calendar.timezone))
        provider_id = calendar.provider_id
        starts, seats = _offered_starts(service, calendar, clock, rules, lower, upper, _blocking(service, calendar))
        for start in starts:
            listed = providers.get(start)
            if listed is None:
                providers[start] = [provider_id]
            elif listed[-1] != provider_id:
                listed.append(provider_id)
        for start, left in seats.items():
            if left > seats_left.get(start, 0):
                seats_left[start] = left
    ordered = sorted(providers)
    begins = list(map(datetime.fromtimestamp, ordered, repeat(UTC)))
    ends = map(add, begins, repeat(timedelta(minutes=service.duration_minutes)))
    provider_ids = map(tuple, map(providers.__getitem__, ordered))
    return list(map(Slot, begins, ends, provider_ids, map(seats_left.get, ordered)))


def check_start(
    service: ServiceSpec,
    calendar: ProviderCalendar,
    rules: BookingRules,
    start: datetime,
    client_email: str | None = None,
) -> StartRejection | None:
    """None when the provider offers `start`; otherwise why not. Agrees exactly with `compute_slots`.

    `client_email` is accepted for the booking flow's symmetry only: one seat per email per
    session is enforced by the store, which sees concurrent claims.
    """
    _require_aware(rules.now, "BookingRules.now")
    _require_aware(start, "start")
    seconds = exact_epoch(start)
    if seconds is None:
        return StartRejection.OUTSIDE_AVAILABILITY
    clock = ZoneClock(ZoneInfo(calendar.timezone))
    offered, _ = _offered_starts(service, calendar, clock, rules, seconds, seconds, _blocking(service, calendar))
    if seconds in offered:
        return None
    available, _ = _offered_starts(service, calendar, clock, rules, seconds, seconds, NOTHING_BLOCKS)
    if seconds in available:
        return StartRejection.SLOT_UNAVAILABLE
    return StartRejection.OUTSIDE_AVAILABILITY


def _offered_starts(
    service: ServiceSpec,
    calendar: ProviderCalendar,
    clock: ZoneClock,
    rules: BookingRules,
    lower: int,
    upper: int,
    blocking: Blocking,
) -> tuple[list[int], dict[int, int]]:
    """Starts in [lower, upper] (UTC seconds) the provider offers, ascending, and for group
    classes the seats each has left.

    Only local dates that can hold such a start are examined: a start's local date is the
    date whose window produced it, and one day either side absorbs midnight transitions.
    """
    lower = max(lower, epoch_ceil(rules.now + timedelta(minutes=rules.min_notice_minutes)))
    if lower > upper:
        return [], {}
    last_day = min(add_days(clock.local_date(upper), 1), add_days(clock.today(rules.now), rules.max_advance_days))
    windows_on = WindowPlan.build(calendar.rules, calendar.overrides, service.service_id).on
    steady_midnight, free_progression = clock.steady_midnight, blocking.free_progression
    step = service.interval_minutes * 60
    duration = service.duration_minutes * 60
    offered: list[int] = []
    seats_left: dict[int, int] = {}
    day = add_days(clock.local_date(lower), -1)
    while day <= last_day:
        windows = windows_on(day)
        midnight = steady_midnight(day) if windows else None
        for window_start, window_end in windows:
            if midnight is not None:
                # One offset all day: wall minutes map linearly to UTC, so alignment is arithmetic.
                origin = midnight + window_start * 60
                last = min(midnight + window_end * 60 - duration, upper)
                first = origin if lower <= origin else lower + (origin - lower) % step
                starts = free_progression(first, last, step) if first <= last else []
            else:
                starts = _transition_day_starts(service, clock, day, (window_start, window_end), lower, upper, blocking)
            if service.capacity == 1:
                offered += starts
            else:
                for start in starts:
                    if (seats := blocking.seats_left(start, service.capacity)) is not None:
                        offered.append(start)
                        seats_left[start] = seats
        if day == date.max:
            break
        day += _ONE_DAY
    return offered, seats_left


def _transition_day_starts(
    service: ServiceSpec,
    clock: ZoneClock,
    day: date,
    window: tuple[int, int],
    lower: int,
    upper: int,
    blocking: Blocking,
) -> list[int]:
    """Like the steady-day progression, but converting each wall-time candidate on its own:
    starts in a spring-forward gap do not exist, ambiguous ones are their first occurrence."""
    window_start, window_end = window
    duration = service.duration_minutes * 60
    earliest = max(clock.bound_to_epoch(day, window_start), lower)
    latest_end = clock.bound_to_epoch(day, window_end)
    starts: list[int] = []
    for minute in range(window_start, window_end, service.interval_minutes):
        start = clock.wall_to_epoch(day, minute)
        if start is None or start < earliest or start > upper or start + duration > latest_end:
            continue
        if not blocking.blocks(start):
            starts.append(start)
    return starts


def _blocking(service: ServiceSpec, calendar: ProviderCalendar) -> Blocking:
    """The calendar's conflicts, indexed for starts of `service`."""
    return Blocking.of(
        calendar.occupied,
        calendar.seats_taken,
        session_service_id=service.service_id if service.capacity > 1 else None,
        before_seconds=service.buffer_before_minutes * 60,
        reach_seconds=(service.duration_minutes + service.buffer_after_minutes) * 60,
    )


def _require_aware(moment: datetime, name: str) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
