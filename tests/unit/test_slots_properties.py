"""Properties of the slot engine over generated calendars, weighted towards DST days.

Each property checks one rule of API.md "Slot semantics" directly against the output, and
one checks the whole answer against a brute-force reading of those rules written here
without the engine's shortcuts (no arithmetic on wall time, no bisect, no merging tricks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.slots import (
    BookingRules,
    DateOverride,
    Occupancy,
    ProviderCalendar,
    ServiceSpec,
    Slot,
    StartRejection,
    WeeklyRule,
    check_start,
    compute_slots,
    occupied_interval,
)

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC")
# 2027 clock changes of those zones (US, EU, Lord Howe's half hour), and an ordinary UTC day.
TRANSITIONS = (
    ("America/New_York", date(2027, 3, 14)),
    ("America/New_York", date(2027, 11, 7)),
    ("Europe/London", date(2027, 3, 28)),
    ("Europe/London", date(2027, 10, 31)),
    ("Australia/Lord_Howe", date(2027, 4, 4)),
    ("Australia/Lord_Howe", date(2027, 10, 3)),
    ("UTC", date(2027, 6, 16)),
)
SERVICE_ID = "svc"
MINUTE = timedelta(minutes=1)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Scenario:
    service: ServiceSpec
    calendars: tuple[ProviderCalendar, ...]
    rules: BookingRules
    start_date: date
    end_date: date
    client_zone: str

    def slots(self) -> list[Slot]:
        return compute_slots(self.service, self.calendars, self.rules, self.start_date, self.end_date, self.client_zone)

    def offers(self) -> set[tuple[datetime, str]]:
        return {(slot.start, provider) for slot in self.slots() for provider in slot.provider_ids}


# --- Generators ------------------------------------------------------------------------------------


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@st.composite
def wall_intervals(draw: st.DrawFn) -> tuple[str, str]:
    """Half-hour-grid intervals, often in the small hours where clocks change; end may be 24:00."""
    start = draw(st.one_of(st.integers(0, 8), st.integers(0, 47))) * 30
    length = draw(st.integers(1, 16)) * 30
    return _hhmm(start), _hhmm(min(start + length, 1440))


@st.composite
def services(draw: st.DrawFn, group_class: bool | None = None) -> ServiceSpec:
    capacity = draw(st.sampled_from((1, 1, 3) if group_class is None else (3, 5) if group_class else (1,)))
    return ServiceSpec(
        service_id=SERVICE_ID,
        duration_minutes=draw(st.sampled_from((15, 30, 45, 60, 90, 150))),
        buffer_before_minutes=draw(st.sampled_from((0, 0, 5, 10, 30))),
        buffer_after_minutes=draw(st.sampled_from((0, 0, 5, 15))),
        interval_minutes=draw(st.sampled_from((5, 10, 15, 20, 30, 45, 60))),
        capacity=capacity,
    )


@st.composite
def calendars(draw: st.DrawFn, anchor: date, home_zone: str, spec: ServiceSpec, provider_id: str) -> ProviderCalendar:
    # Mostly in the zone whose clocks change on the anchor date.
    zone = draw(st.sampled_from((home_zone, home_zone, *ZONES)))
    # On the weekdays around the anchor, so that the rules matter.
    nearby = st.sampled_from([(anchor + timedelta(days=offset)).weekday() for offset in range(-2, 3)])
    rules = []
    for _ in range(draw(st.integers(1, 5))):
        start, end = draw(wall_intervals())
        service_ids = draw(st.sampled_from((None, None, frozenset({SERVICE_ID}), frozenset({"other"}))))
        weekday = draw(nearby)
        if draw(st.integers(0, 3)) == 0 and _minutes(end) - _minutes(start) >= 60:
            # Two rules that touch, which must behave as one window.
            seam = _hhmm((_minutes(start) + _minutes(end)) // 60 * 30)
            rules.append(WeeklyRule(weekday, start, seam, service_ids))
            start = seam
        rules.append(WeeklyRule(weekday, start, end, service_ids))
    overrides = {}
    for offset in draw(st.sets(st.integers(-1, 2), max_size=2)):
        day = anchor + timedelta(days=offset)
        overrides[day] = DateOverride(day, tuple(draw(st.lists(wall_intervals(), max_size=2))))
    midnight = datetime.combine(anchor, time(), UTC)
    occupied = []
    seats_taken: dict[datetime, int] = {}
    for _ in range(draw(st.integers(0, 6))):
        begins = midnight + timedelta(minutes=5 * draw(st.integers(-288, 3 * 288)))
        if spec.capacity > 1 and draw(st.booleans()):
            # A seat of this class: its session widened by the class's buffers.
            seat = occupied_interval(
                begins,
                begins + timedelta(minutes=spec.duration_minutes),
                spec.buffer_before_minutes,
                spec.buffer_after_minutes,
            )
            occupied.append(Occupancy(*seat, (SERVICE_ID, begins)))
            seats_taken[begins] = seats_taken.get(begins, 0) + 1
            continue
        length = timedelta(minutes=5 * draw(st.integers(0, 36)))
        # Off the minute grid now and then (external busy blocks), to test the edges to the microsecond.
        begins += timedelta(microseconds=draw(st.sampled_from((0, 0, 0, 1, 999_999, 59_999_999))))
        length += timedelta(microseconds=draw(st.sampled_from((0, 0, 0, 1, -1, 1_000_000))))
        key = ("other", begins) if draw(st.integers(0, 4)) == 0 else None
        occupied.append(Occupancy(begins, begins + length, key))
    return ProviderCalendar(provider_id, zone, tuple(rules), overrides, tuple(occupied), seats_taken)


@st.composite
def scenarios(draw: st.DrawFn, group_class: bool | None = None) -> Scenario:
    home_zone, transition = draw(st.sampled_from(TRANSITIONS))
    anchor = transition + timedelta(days=draw(st.sampled_from((0, 0, -1, 1))))
    spec = draw(services(group_class))
    providers = draw(st.lists(st.sampled_from(("ada", "bob", "cy")), min_size=1, max_size=3, unique=True))
    drawn = tuple(draw(calendars(anchor, home_zone, spec, provider_id)) for provider_id in providers)
    # Mostly before the dates asked about, sometimes among them.
    now = datetime.combine(anchor, time(), UTC) + timedelta(minutes=30 * draw(st.integers(-4 * 48, 24)))
    rules = BookingRules(now, draw(st.sampled_from((0, 0, 30, 90, 600))), draw(st.sampled_from((0, 2, 4, 30, 30))))
    start_date = anchor + timedelta(days=draw(st.integers(-1, 0)))
    end_date = start_date + timedelta(days=draw(st.integers(0, 2)))
    return Scenario(spec, drawn, rules, start_date, end_date, draw(st.sampled_from(ZONES)))


# --- An independent reading of the rules ---------------------------------------------------------


def merged_windows(calendar: ProviderCalendar, service_id: str, day: date) -> list[tuple[int, int]]:
    """Rule 1, read literally: the override's intervals, else the weekday's applicable rules, merged."""
    if day in calendar.overrides:
        spans = [(_minutes(a), _minutes(b)) for a, b in calendar.overrides[day].intervals]
    else:
        spans = [
            (_minutes(rule.start), _minutes(rule.end))
            for rule in calendar.rules
            if rule.day_of_week == day.weekday() and (rule.service_ids is None or service_id in rule.service_ids)
        ]
    merged: list[list[int]] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def first_reaching(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The first instant whose wall time is at least `minute` on `day`, by walking minutes."""
    target = datetime.combine(day, time()) + timedelta(minutes=minute)
    exists = target.replace(tzinfo=zone).astimezone(UTC)
    if wall(exists, zone) == target:
        return exists  # zoneinfo's fold=0: the first occurrence
    instant = target.replace(tzinfo=zone, fold=1).astimezone(UTC)  # before the jump
    while wall(instant, zone) < target:
        instant += MINUTE
    return instant


def conflicts(service: ServiceSpec, calendar: ProviderCalendar, start: datetime) -> bool:
    """Rule 5, read literally, with the group-class exception of rule 6."""
    low = start - timedelta(minutes=service.buffer_before_minutes)
    high = start + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
    for occupancy in calendar.occupied:
        if service.capacity > 1 and occupancy.session_key == (service.service_id, start):
            continue
        if occupancy.start < occupancy.end and occupancy.start < high and low < occupancy.end:
            return True
    return False


def reference_offers(scenario: Scenario) -> dict[tuple[datetime, str], int | None]:
    """Every (start, provider) the rules allow in the client's dates, by trying every wall-time step."""
    service, rules = scenario.service, scenario.rules
    client = ZoneInfo(scenario.client_zone)
    duration = timedelta(minutes=service.duration_minutes)
    found: dict[tuple[datetime, str], int | None] = {}
    for calendar in scenario.calendars:
        zone = ZoneInfo(calendar.timezone)
        horizon = rules.now.astimezone(zone).date() + timedelta(days=rules.max_advance_days)
        day = scenario.start_date - timedelta(days=2)
        while day <= scenario.end_date + timedelta(days=2):
            for window_start, window_end in merged_windows(calendar, service.service_id, day):
                opens, closes = first_reaching(zone, day, window_start), first_reaching(zone, day, window_end)
                for minute in range(window_start, window_end, service.interval_minutes):
                    local = datetime.combine(day, time()) + timedelta(minutes=minute)
                    start = local.replace(tzinfo=zone).astimezone(UTC)
                    if wall(start, zone) != local:
                        continue  # rule 2: no such wall time
                    if not (opens <= start and start + duration <= closes):
                        continue  # rule 3
                    if start < rules.now + timedelta(minutes=rules.min_notice_minutes) or day > horizon:
                        continue  # rule 4
                    if not scenario.start_date <= start.astimezone(client).date() <= scenario.end_date:
                        continue
                    if conflicts(service, calendar, start):
                        continue  # rule 5
                    if service.capacity == 1:
                        found[(start, calendar.provider_id)] = None
                    elif (taken := calendar.seats_taken.get(start, 0)) < service.capacity:
                        found[(start, calendar.provider_id)] = service.capacity - taken
            day += timedelta(days=1)
    return found


def calendar_of(scenario: Scenario, provider_id: str) -> ProviderCalendar:
    return next(calendar for calendar in scenario.calendars if calendar.provider_id == provider_id)


def without_bookings(calendar: ProviderCalendar) -> ProviderCalendar:
    return replace(calendar, occupied=(), seats_taken={})


# --- Properties ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_are_exactly_the_starts_the_rules_allow(scenario: Scenario) -> None:
    # GIVEN any calendars WHEN slots are computed
    slots = scenario.slots()
    # THEN they are, provider by provider and seat count by seat count, the brute-force answer
    expected = reference_offers(scenario)
    actual = {(slot.start, provider): slot.seats_left for slot in slots for provider in slot.provider_ids}
    assert actual.keys() == expected.keys()
    if scenario.service.capacity > 1:
        for slot in slots:
            assert slot.seats_left == max(expected[(slot.start, provider)] or 0 for provider in slot.provider_ids)


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_lies_inside_a_window_and_is_aligned_to_its_start(scenario: Scenario) -> None:
    # GIVEN any calendars WHEN slots are computed
    for slot in scenario.slots():
        for provider in slot.provider_ids:
            calendar = calendar_of(scenario, provider)
            zone = ZoneInfo(calendar.timezone)
            local = slot.start.astimezone(zone)
            day, minute = local.date(), local.hour * 60 + local.minute
            # THEN the start is the first occurrence of its wall time, a step from a window start,
            assert local.fold == 0
            window = next(
                (ws, we)
                for ws, we in merged_windows(calendar, scenario.service.service_id, day)
                if ws <= minute < we and (minute - ws) % scenario.service.interval_minutes == 0
            )
            # AND every minute of the slot reads, on that date, before the window's end
            closes = datetime.combine(day, time()) + timedelta(minutes=window[1])
            instant = slot.start
            while instant < slot.end:
                assert wall(instant, zone) < closes
                instant += MINUTE


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_respects_notice_horizon_and_the_clients_dates(scenario: Scenario) -> None:
    rules = scenario.rules
    # GIVEN any calendars WHEN slots are computed
    for slot in scenario.slots():
        # THEN each start is after the notice, within each provider's horizon and on a requested date
        assert slot.start >= rules.now + timedelta(minutes=rules.min_notice_minutes)
        assert scenario.start_date <= slot.start.astimezone(ZoneInfo(scenario.client_zone)).date() <= scenario.end_date
        for provider in slot.provider_ids:
            zone = ZoneInfo(calendar_of(scenario, provider).timezone)
            today = rules.now.astimezone(zone).date()
            assert slot.start.astimezone(zone).date() <= today + timedelta(days=rules.max_advance_days)


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_slot_overlaps_occupied_time_once_buffered(scenario: Scenario) -> None:
    # GIVEN any calendars WHEN slots are computed
    for slot in scenario.slots():
        # THEN no listed provider has occupied time inside [start - Bb, end + Ba), but a class's own session
        for provider in slot.provider_ids:
            assert not conflicts(scenario.service, calendar_of(scenario, provider), slot.start)


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_are_sorted_unique_and_well_formed(scenario: Scenario) -> None:
    # GIVEN any calendars WHEN slots are computed
    slots = scenario.slots()
    # THEN starts strictly increase, ends follow the duration, providers are sorted, seats fit capacity
    assert all(earlier.start < later.start for earlier, later in pairwise(slots))
    for slot in slots:
        assert slot.start.utcoffset() == timedelta(0)
        assert slot.end - slot.start == timedelta(minutes=scenario.service.duration_minutes)
        assert list(slot.provider_ids) == sorted(set(slot.provider_ids))
        if scenario.service.capacity == 1:
            assert slot.seats_left is None
        else:
            assert slot.seats_left is not None and 0 < slot.seats_left <= scenario.service.capacity


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_removing_an_occupancy_never_removes_a_slot(scenario: Scenario, data: st.DataObject) -> None:
    # GIVEN any calendars with at least one occupancy
    busy = [index for index, calendar in enumerate(scenario.calendars) if calendar.occupied]
    assume(busy)
    index = data.draw(st.sampled_from(busy))
    calendar = scenario.calendars[index]
    dropped = data.draw(st.integers(0, len(calendar.occupied) - 1))
    lighter = replace(calendar, occupied=calendar.occupied[:dropped] + calendar.occupied[dropped + 1 :])
    freer = replace(scenario, calendars=(*scenario.calendars[:index], lighter, *scenario.calendars[index + 1 :]))
    # WHEN slots are computed with and without it
    # THEN every offer survives
    assert scenario.offers() <= freer.offers()


def _wide(scenario: Scenario) -> Scenario:
    """The same calendars asked over every date the generated candidates can fall on."""
    return replace(
        scenario,
        client_zone="UTC",
        start_date=scenario.start_date - timedelta(days=3),
        end_date=scenario.end_date + timedelta(days=3),
    )


def _candidates(scenario: Scenario, data: st.DataObject) -> Iterable[datetime]:
    """Arbitrary 5-minute instants within the (UTC) dates the scenario asks about."""
    midnight = datetime.combine(scenario.start_date, time(), UTC)
    last_step = ((scenario.end_date - scenario.start_date).days + 1) * 288 - 1
    steps = st.integers(0, last_step).map(lambda step: midnight + timedelta(minutes=5 * step))
    return data.draw(st.lists(steps, min_size=1, max_size=25))


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_check_start_agrees_with_compute_slots(scenario: Scenario, data: st.DataObject) -> None:
    wide = _wide(scenario)
    offered = wide.offers()
    free = replace(wide, calendars=tuple(without_bookings(calendar) for calendar in wide.calendars)).offers()
    for calendar in wide.calendars:
        provider = calendar.provider_id
        # GIVEN every offered start and a spread of arbitrary 5-minute instants
        starts = {start for start, owner in offered if owner == provider} | set(_candidates(wide, data))
        for start in starts:
            # WHEN the provider's start is re-checked as a booking would be
            verdict = check_start(wide.service, calendar, wide.rules, start, client_email="c@example.com")
            # THEN it passes exactly when offered, and a refusal names bookings only when they are the reason
            if (start, provider) in offered:
                assert verdict is None
            elif (start, provider) in free:
                assert verdict is StartRejection.SLOT_UNAVAILABLE
            else:
                assert verdict is StartRejection.OUTSIDE_AVAILABILITY


@settings(PROPERTY_SETTINGS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios(group_class=True), st.data())
def test_group_session_is_offered_while_seats_remain(scenario: Scenario, data: st.DataObject) -> None:
    # GIVEN a class and one of its offered sessions
    slots = scenario.slots()
    assume(slots)
    slot = data.draw(st.sampled_from(slots))
    provider = slot.provider_ids[0]
    calendar = calendar_of(scenario, provider)
    capacity = scenario.service.capacity
    # WHEN seats are taken up to one short of capacity, and then to capacity
    seat = Occupancy(
        *occupied_interval(
            slot.start,
            slot.end,
            scenario.service.buffer_before_minutes,
            scenario.service.buffer_after_minutes,
        ),
        (SERVICE_ID, slot.start),
    )
    for taken, offered in ((capacity - 1, True), (capacity, False)):
        seats_taken = {**calendar.seats_taken, slot.start: taken}
        busier = replace(calendar, occupied=(*calendar.occupied, seat), seats_taken=seats_taken)
        verdict = check_start(scenario.service, busier, scenario.rules, slot.start)
        # THEN the session stays open with one seat left, and closes when full
        assert (verdict is None) is offered
        if not offered:
            assert verdict is StartRejection.SLOT_UNAVAILABLE
