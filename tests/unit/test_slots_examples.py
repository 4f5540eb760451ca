"""The slot engine's sharp edges, one behaviour per test: DST days, overrides, buffers,
half-open intervals, notice and horizon, several providers and group classes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
    local_start,
    occupied_interval,
)

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)


def service(
    duration: int = 60,
    interval: int = 30,
    before: int = 0,
    after: int = 0,
    capacity: int = 1,
    service_id: str = "massage",
) -> ServiceSpec:
    return ServiceSpec(service_id, duration, before, after, interval, capacity)


def calendar(
    rules: Iterable[WeeklyRule] = (),
    zone: str = NEW_YORK,
    overrides: Iterable[DateOverride] = (),
    occupied: Iterable[Occupancy] = (),
    seats_taken: Mapping[datetime, int] | None = None,
    provider_id: str = "ada",
) -> ProviderCalendar:
    return ProviderCalendar(
        provider_id=provider_id,
        timezone=zone,
        rules=tuple(rules),
        overrides={override.date: override for override in overrides},
        occupied=tuple(occupied),
        seats_taken=dict(seats_taken or {}),
    )


def every_day(start: str, end: str, service_ids: frozenset[str] | None = None) -> list[WeeklyRule]:
    return [WeeklyRule(day, start, end, service_ids) for day in range(7)]


def booking_rules(now: datetime = LONG_AGO, notice: int = 0, advance: int = 3650) -> BookingRules:
    return BookingRules(now=now, min_notice_minutes=notice, max_advance_days=advance)


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A wall time in `zone` as an aware UTC instant (fold=1 picks the second occurrence)."""
    return datetime(year, month, day, hour, minute, fold=fold, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def slots_on(
    day: date,
    spec: ServiceSpec,
    calendars: Iterable[ProviderCalendar],
    client_zone: str = NEW_YORK,
    rules: BookingRules | None = None,
) -> list[Slot]:
    return compute_slots(spec, list(calendars), rules or booking_rules(), day, day, client_zone)


def local_times(slots: Iterable[Slot], zone: str) -> list[str]:
    return [local_start(slot.start, zone).strftime("%H:%M%z") for slot in slots]


# --- Daylight saving time -------------------------------------------------------------------


def test_new_york_spring_forward_offers_no_start_in_the_missing_hour() -> None:
    # GIVEN a New York window 01:00-04:00 on 2027-03-14, when 02:00 jumps to 03:00
    ada = calendar(every_day("01:00", "04:00"))
    # WHEN 15-minute slots are listed every 15 minutes
    slots = slots_on(date(2027, 3, 14), service(duration=15, interval=15), [ada])
    # THEN the 02:xx starts do not exist and the rest are there
    assert local_times(slots, NEW_YORK) == [
        "01:00-0500",
        "01:15-0500",
        "01:30-0500",
        "01:45-0500",
        "03:00-0400",
        "03:15-0400",
        "03:30-0400",
        "03:45-0400",
    ]


def test_new_york_spring_forward_window_one_to_four_is_two_real_hours() -> None:
    # GIVEN the same 01:00-04:00 window, which lasts 2 real hours on that day
    ada = calendar(every_day("01:00", "04:00"))
    # WHEN a 60-minute service steps by 15 minutes
    slots = slots_on(date(2027, 3, 14), service(duration=60, interval=15), [ada])
    # THEN only starts whose real hour ends by 04:00 EDT (08:00Z) are offered
    assert local_times(slots, NEW_YORK) == ["01:00-0500", "01:15-0500", "01:30-0500", "01:45-0500", "03:00-0400"]
    assert slots[-1].end == datetime(2027, 3, 14, 8, 0, tzinfo=UTC)


def test_window_starting_inside_the_spring_forward_gap_opens_at_the_jump() -> None:
    # GIVEN a window 02:00-04:00 on the New York spring-forward day
    ada = calendar(every_day("02:00", "04:00"))
    # WHEN hourly slots are listed
    slots = slots_on(date(2027, 3, 14), service(duration=60, interval=60), [ada])
    # THEN the first start is 03:00 EDT and the window holds one real hour
    assert local_times(slots, NEW_YORK) == ["03:00-0400"]


def test_window_ending_inside_the_spring_forward_gap_closes_at_the_jump() -> None:
    # GIVEN a window 01:00-02:30 on the New York spring-forward day (it ends at 03:00 EDT)
    ada = calendar(every_day("01:00", "02:30"))
    # WHEN a 60-minute service steps by 30 minutes
    slots = slots_on(date(2027, 3, 14), service(duration=60, interval=30), [ada])
    # THEN only 01:00 EST fits; 01:30 EST would run past the jump
    assert local_times(slots, NEW_YORK) == ["01:00-0500"]


def test_new_york_fall_back_ambiguous_start_is_its_first_occurrence() -> None:
    # GIVEN a window 01:00-03:00 on 2027-11-07, when 02:00 EDT falls back to 01:00 EST
    ada = calendar(every_day("01:00", "03:00"))
    # WHEN 30-minute slots step by 30 minutes of wall time
    slots = slots_on(date(2027, 11, 7), service(duration=30, interval=30), [ada])
    # THEN 01:00 and 01:30 are the EDT occurrences and 02:00, 02:30 follow in EST
    assert local_times(slots, NEW_YORK) == ["01:00-0400", "01:30-0400", "02:00-0500", "02:30-0500"]
    assert slots[1].start == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_new_york_fall_back_window_one_to_three_holds_three_real_hours() -> None:
    # GIVEN the 01:00-03:00 window on the fall-back day, three real hours long
    ada = calendar(every_day("01:00", "03:00"))
    # WHEN the service lasts three hours
    slots = slots_on(date(2027, 11, 7), service(duration=180, interval=30), [ada])
    # THEN it fits exactly once, from 01:00 EDT to 03:00 EST
    assert [(slot.start, slot.end) for slot in slots] == [
        (datetime(2027, 11, 7, 5, 0, tzinfo=UTC), datetime(2027, 11, 7, 8, 0, tzinfo=UTC))
    ]


def test_london_spring_forward_offers_no_start_in_the_missing_hour() -> None:
    # GIVEN a London window 00:00-03:00 on 2027-03-28, when 01:00 GMT jumps to 02:00 BST
    ada = calendar(every_day("00:00", "03:00"), zone=LONDON)
    # WHEN 30-minute slots step by 30 minutes
    slots = slots_on(date(2027, 3, 28), service(duration=30, interval=30), [ada], client_zone=LONDON)
    # THEN 01:00 and 01:30 do not exist
    assert local_times(slots, LONDON) == ["00:00+0000", "00:30+0000", "02:00+0100", "02:30+0100"]


def test_london_fall_back_window_of_one_wall_hour_holds_two_real_hours() -> None:
    # GIVEN a London window 01:00-02:00 on 2027-10-31, when 02:00 BST falls back to 01:00 GMT
    ada = calendar(every_day("01:00", "02:00"), zone=LONDON)
    # WHEN a two-hour service is listed
    slots = slots_on(date(2027, 10, 31), service(duration=120, interval=30), [ada], client_zone=LONDON)
    # THEN it starts at the first 01:00 (BST) and ends at 02:00 GMT
    assert [(slot.start, slot.end) for slot in slots] == [
        (datetime(2027, 10, 31, 0, 0, tzinfo=UTC), datetime(2027, 10, 31, 2, 0, tzinfo=UTC))
    ]
    assert local_times(slots, LONDON) == ["01:00+0100"]


def test_lord_howe_half_hour_fall_back_makes_a_two_hour_window_two_and_a_half_hours_long() -> None:
    # GIVEN a Lord Howe window 01:00-03:00 on 2027-04-04, when 02:00 (+11) falls back to 01:30 (+10:30)
    ada = calendar(every_day("01:00", "03:00"), zone=LORD_HOWE)
    # WHEN a 150-minute service is listed
    slots = slots_on(date(2027, 4, 4), service(duration=150, interval=30), [ada], client_zone=LORD_HOWE)
    # THEN it fits once, from 01:00 (+11) to 03:00 (+10:30)
    assert [(slot.start, slot.end) for slot in slots] == [
        (datetime(2027, 4, 3, 14, 0, tzinfo=UTC), datetime(2027, 4, 3, 16, 30, tzinfo=UTC))
    ]


def test_london_provider_seen_from_new_york_is_listed_under_the_clients_dates() -> None:
    # GIVEN a London provider working 02:00-06:00 on Tuesday 2027-03-30 (BST), i.e. 21:00-01:00 in New York
    ada = calendar([WeeklyRule(1, "02:00", "06:00", None)], zone=LONDON)
    # WHEN a New York client asks for Monday 2027-03-29, their date
    slots = slots_on(date(2027, 3, 29), service(duration=60, interval=60), [ada], client_zone=NEW_YORK)
    # THEN only the starts before New York midnight are listed, read in New York time
    assert local_times(slots, NEW_YORK) == ["21:00-0400", "22:00-0400", "23:00-0400"]
    assert local_times(slots, LONDON) == ["02:00+0100", "03:00+0100", "04:00+0100"]


def test_london_provider_seen_from_new_york_after_us_but_before_uk_clock_change_is_four_hours_apart() -> None:
    # GIVEN a London provider working 09:00-10:00 on Monday 2027-03-22 (US on EDT, UK still on GMT)
    ada = calendar([WeeklyRule(0, "09:00", "10:00", None)], zone=LONDON)
    # WHEN a New York client asks for that day
    slots = slots_on(date(2027, 3, 22), service(duration=60, interval=60), [ada], client_zone=NEW_YORK)
    # THEN the one start shows as 05:00 in New York
    assert local_times(slots, NEW_YORK) == ["05:00-0400"]


# --- Windows: rules and overrides ------------------------------------------------------------


def test_override_replaces_the_weekly_rules_of_its_date() -> None:
    # GIVEN Monday hours 09:00-17:00 and an override 13:00-15:00 on Monday 2027-06-07
    override = DateOverride(date(2027, 6, 7), (("13:00", "15:00"),))
    ada = calendar([WeeklyRule(0, "09:00", "17:00", None)], overrides=[override])
    # WHEN hourly slots are listed for that Monday and the next
    overridden = slots_on(date(2027, 6, 7), service(duration=60, interval=60), [ada])
    regular = slots_on(date(2027, 6, 14), service(duration=60, interval=60), [ada])
    # THEN the override's hours are the only ones that day, and the next Monday is untouched
    assert local_times(overridden, NEW_YORK) == ["13:00-0400", "14:00-0400"]
    assert len(regular) == 8


def test_override_ending_at_midnight_offers_a_slot_ending_at_midnight() -> None:
    # GIVEN an override 22:00-24:00 on a day with no weekly rules
    ada = calendar(overrides=[DateOverride(date(2027, 6, 7), (("22:00", "24:00"),))])
    # WHEN a 60-minute service steps by 30 minutes
    slots = slots_on(date(2027, 6, 7), service(duration=60, interval=30), [ada])
    # THEN the last start is 23:00 and it ends exactly at the next local midnight
    assert local_times(slots, NEW_YORK) == ["22:00-0400", "22:30-0400", "23:00-0400"]
    assert slots[-1].end == at(NEW_YORK, 2027, 6, 8, 0)


def test_empty_override_is_a_day_off() -> None:
    # GIVEN daily hours and an override with no intervals on 2027-06-07
    ada = calendar(every_day("09:00", "17:00"), overrides=[DateOverride(date(2027, 6, 7), ())])
    # WHEN that day is listed
    slots = slots_on(date(2027, 6, 7), service(), [ada])
    # THEN nothing is offered
    assert slots == []


def test_weekly_rule_for_other_services_does_not_offer_this_one() -> None:
    # GIVEN mornings for yoga only and afternoons for everything
    rules = every_day("09:00", "12:00", frozenset({"yoga"})) + every_day("14:00", "16:00")
    ada = calendar(rules)
    # WHEN massage and yoga are listed
    massage = slots_on(date(2027, 6, 7), service(service_id="massage", interval=60), [ada])
    yoga = slots_on(date(2027, 6, 7), service(service_id="yoga", interval=60), [ada])
    # THEN massage gets only the afternoon, yoga both
    assert local_times(massage, NEW_YORK) == ["14:00-0400", "15:00-0400"]
    assert local_times(yoga, NEW_YORK) == ["09:00-0400", "10:00-0400", "11:00-0400", "14:00-0400", "15:00-0400"]


def test_touching_rules_merge_so_a_slot_may_straddle_them() -> None:
    # GIVEN 09:00-12:00 and 12:00-17:00 as two rules
    ada = calendar(every_day("09:00", "12:00") + every_day("12:00", "17:00"))
    # WHEN a 60-minute service steps by 30 minutes
    slots = slots_on(date(2027, 6, 7), service(duration=60, interval=30), [ada])
    # THEN 11:30 is offered across the seam, and starts keep stepping from 09:00
    assert "11:30-0400" in local_times(slots, NEW_YORK)
    assert len(slots) == 15


def test_overlapping_rules_align_starts_to_the_merged_window() -> None:
    # GIVEN 09:00-11:00 and 10:10-12:00, which merge into 09:00-12:00
    ada = calendar(every_day("09:00", "11:00") + every_day("10:10", "12:00"))
    # WHEN hourly slots are listed
    slots = slots_on(date(2027, 6, 7), service(duration=60, interval=60), [ada])
    # THEN they step from 09:00, not from 10:10
    assert local_times(slots, NEW_YORK) == ["09:00-0400", "10:00-0400", "11:00-0400"]


# --- Conflicts and buffers ---------------------------------------------------------------------


def test_sixty_minute_booking_at_ten_blocks_thirty_minute_start_at_ten_thirty() -> None:
    # GIVEN a 60-minute booking at 10:00 without buffers
    booked = Occupancy(at(NEW_YORK, 2027, 6, 7, 10), at(NEW_YORK, 2027, 6, 7, 11))
    ada = calendar(every_day("09:00", "13:00"), occupied=[booked])
    # WHEN 30-minute slots are listed every 30 minutes
    starts = local_times(slots_on(date(2027, 6, 7), service(duration=30, interval=30), [ada]), NEW_YORK)
    # THEN 10:00 and 10:30 are taken
    assert "10:00-0400" not in starts
    assert "10:30-0400" not in starts


def test_sixty_minute_booking_at_ten_leaves_thirty_minute_start_at_eleven() -> None:
    # GIVEN the same 60-minute booking at 10:00
    booked = Occupancy(at(NEW_YORK, 2027, 6, 7, 10), at(NEW_YORK, 2027, 6, 7, 11))
    ada = calendar(every_day("09:00", "13:00"), occupied=[booked])
    # WHEN 30-minute slots are listed every 30 minutes
    starts = local_times(slots_on(date(2027, 6, 7), service(duration=30, interval=30), [ada]), NEW_YORK)
    # THEN 09:30 ends as it starts and 11:00 starts as it ends: intervals are half-open
    assert "09:30-0400" in starts
    assert "11:00-0400" in starts


def test_gap_exactly_as_long_as_buffers_plus_duration_holds_one_slot() -> None:
    # GIVEN a 30-minute service with 10 minutes before and 5 after, and occupied time
    # 09:00-10:00 and 10:45-12:00: a gap of exactly 45 minutes
    occupied = [
        Occupancy(at(NEW_YORK, 2027, 6, 7, 9), at(NEW_YORK, 2027, 6, 7, 10)),
        Occupancy(at(NEW_YORK, 2027, 6, 7, 10, 45), at(NEW_YORK, 2027, 6, 7, 12)),
    ]
    ada = calendar(every_day("09:00", "12:00"), occupied=occupied)
    # WHEN slots step by 5 minutes
    slots = slots_on(date(2027, 6, 7), service(duration=30, interval=5, before=10, after=5), [ada])
    # THEN exactly 10:10 fits: its buffers touch both neighbours
    assert local_times(slots, NEW_YORK) == ["10:10-0400"]


def test_gap_one_minute_shorter_than_buffers_plus_duration_holds_no_slot() -> None:
    # GIVEN the same service and a gap of 44 minutes (10:00-10:44)
    occupied = [
        Occupancy(at(NEW_YORK, 2027, 6, 7, 9), at(NEW_YORK, 2027, 6, 7, 10)),
        Occupancy(at(NEW_YORK, 2027, 6, 7, 10, 44), at(NEW_YORK, 2027, 6, 7, 12)),
    ]
    ada = calendar(every_day("09:00", "12:00"), occupied=occupied)
    # WHEN slots step by one minute
    slots = slots_on(date(2027, 6, 7), service(duration=30, interval=1, before=10, after=5), [ada])
    # THEN nothing fits
    assert slots == []


def test_booking_that_starts_as_a_slot_ends_does_not_block_it_on_a_spring_forward_day() -> None:
    # GIVEN the New York spring-forward day, a window 01:00-04:00 and a booking from 03:00 EDT
    booked = Occupancy(at(NEW_YORK, 2027, 3, 14, 3), at(NEW_YORK, 2027, 3, 14, 4))
    ada = calendar(every_day("01:00", "04:00"), occupied=[booked])
    # WHEN 60-minute slots step by 15 minutes
    slots = slots_on(date(2027, 3, 14), service(duration=60, interval=15), [ada])
    # THEN 01:00 EST, which ends at 03:00 EDT, is offered and 01:15 is not
    assert local_times(slots, NEW_YORK) == ["01:00-0500"]


def test_empty_occupancy_blocks_nothing() -> None:
    # GIVEN a zero-length busy block at 10:00
    instant = at(NEW_YORK, 2027, 6, 7, 10)
    ada = calendar(every_day("09:00", "11:00"), occupied=[Occupancy(instant, instant)])
    # WHEN hourly slots are listed
    slots = slots_on(date(2027, 6, 7), service(interval=30), [ada])
    # THEN all three starts are offered
    assert local_times(slots, NEW_YORK) == ["09:00-0400", "09:30-0400", "10:00-0400"]


def test_busy_block_off_the_minute_grid_blocks_to_the_microsecond() -> None:
    # GIVEN a busy block ending one microsecond after 10:00
    block = Occupancy(at(NEW_YORK, 2027, 6, 7, 9), at(NEW_YORK, 2027, 6, 7, 10) + timedelta(microseconds=1))
    ada = calendar(every_day("09:00", "12:00"), occupied=[block])
    # WHEN hourly slots are listed
    slots = slots_on(date(2027, 6, 7), service(interval=60), [ada])
    # THEN 10:00 is taken by that microsecond and 11:00 is free
    assert local_times(slots, NEW_YORK) == ["11:00-0400"]


def test_buffers_may_extend_past_the_window() -> None:
    # GIVEN a window 09:00-10:00 and a service with 30-minute buffers on both sides
    ada = calendar(every_day("09:00", "10:00"))
    # WHEN the 60-minute service is listed
    slots = slots_on(date(2027, 6, 7), service(duration=60, interval=60, before=30, after=30), [ada])
    # THEN the only start fills the window, its buffers outside it
    assert local_times(slots, NEW_YORK) == ["09:00-0400"]


def test_occupied_interval_widens_a_booking_by_its_own_buffers() -> None:
    # GIVEN a booking 10:00-11:00 of a service with 15 minutes before and 10 after
    start, end = at(NEW_YORK, 2027, 6, 7, 10), at(NEW_YORK, 2027, 6, 7, 11)
    # WHEN its occupied interval is computed
    low, high = occupied_interval(start, end, 15, 10)
    # THEN it runs from 09:45 to 11:10
    assert (low, high) == (at(NEW_YORK, 2027, 6, 7, 9, 45), at(NEW_YORK, 2027, 6, 7, 11, 10))


# --- Notice and horizon ----------------------------------------------------------------------


def test_start_exactly_at_minimum_notice_is_offered_and_one_step_earlier_is_not() -> None:
    # GIVEN now is 09:00 and two hours' notice are required
    now = at(NEW_YORK, 2027, 6, 7, 9)
    ada = calendar(every_day("09:00", "17:00"))
    # WHEN the day is listed
    slots = slots_on(date(2027, 6, 7), service(interval=30), [ada], rules=booking_rules(now=now, notice=120))
    # THEN the first start is exactly 11:00
    assert local_times(slots, NEW_YORK)[0] == "11:00-0400"


def test_maximum_advance_counts_days_in_the_providers_zone() -> None:
    # GIVEN now is Monday 2027-06-07 23:30 in New York (already Tuesday 04:30 in London),
    # a London provider and a horizon of 2 days
    now = at(NEW_YORK, 2027, 6, 7, 23, 30)
    ada = calendar(every_day("09:00", "10:00"), zone=LONDON)
    rules = booking_rules(now=now, advance=2)
    # WHEN Thursday and Friday are listed in London
    thursday = slots_on(date(2027, 6, 10), service(), [ada], client_zone=LONDON, rules=rules)
    friday = slots_on(date(2027, 6, 11), service(), [ada], client_zone=LONDON, rules=rules)
    # THEN Thursday (London's today + 2) is open and Friday is beyond the horizon
    assert local_times(thursday, LONDON) == ["09:00+0100"]
    assert friday == []


# --- Several providers and group classes -------------------------------------------------------


def test_two_providers_offering_the_same_start_share_one_slot() -> None:
    # GIVEN two providers with the same hours, listed out of order
    zed = calendar(every_day("09:00", "10:00"), provider_id="zed")
    ada = calendar(every_day("09:00", "10:00"), provider_id="ada")
    # WHEN the day is listed
    slots = slots_on(date(2027, 6, 7), service(), [zed, ada])
    # THEN there is one slot naming both, sorted
    assert [slot.provider_ids for slot in slots] == [("ada", "zed")]
    assert slots[0].seats_left is None


def test_slot_lists_only_the_providers_still_free_at_that_start() -> None:
    # GIVEN two providers and a booking of one of them at 09:00
    booked = Occupancy(at(NEW_YORK, 2027, 6, 7, 9), at(NEW_YORK, 2027, 6, 7, 10))
    ada = calendar(every_day("09:00", "11:00"), occupied=[booked], provider_id="ada")
    bob = calendar(every_day("09:00", "11:00"), provider_id="bob")
    # WHEN hourly slots are listed
    slots = slots_on(date(2027, 6, 7), service(interval=60), [ada, bob])
    # THEN 09:00 names only bob and 10:00 both
    assert [slot.provider_ids for slot in slots] == [("bob",), ("ada", "bob")]


def test_group_class_reports_the_seats_left() -> None:
    # GIVEN a 5-seat class at 09:00 with 3 seats taken, whose seats occupy the provider
    session = at(NEW_YORK, 2027, 6, 7, 9)
    seats = [Occupancy(session, session + timedelta(hours=1), ("yoga", session)) for _ in range(3)]
    ada = calendar(every_day("09:00", "10:00"), occupied=seats, seats_taken={session: 3})
    # WHEN the class is listed
    slots = slots_on(date(2027, 6, 7), service(service_id="yoga", capacity=5), [ada])
    # THEN the session is offered with 2 seats left: its own seats do not block it
    assert [(slot.start, slot.seats_left) for slot in slots] == [(session, 2)]


def test_full_group_class_is_not_offered() -> None:
    # GIVEN a 5-seat class at 09:00 with all 5 seats taken
    session = at(NEW_YORK, 2027, 6, 7, 9)
    seats = [Occupancy(session, session + timedelta(hours=1), ("yoga", session)) for _ in range(5)]
    ada = calendar(every_day("09:00", "10:00"), occupied=seats, seats_taken={session: 5})
    # WHEN the class is listed
    slots = slots_on(date(2027, 6, 7), service(service_id="yoga", capacity=5), [ada])
    # THEN nothing is offered
    assert slots == []


def test_another_services_booking_blocks_a_group_class() -> None:
    # GIVEN a massage (another service) booked at 09:00 with the class's provider
    start = at(NEW_YORK, 2027, 6, 7, 9)
    massage = Occupancy(start, start + timedelta(hours=1), ("massage", start))
    ada = calendar(every_day("09:00", "10:00"), occupied=[massage])
    # WHEN the class is listed
    slots = slots_on(date(2027, 6, 7), service(service_id="yoga", capacity=5), [ada])
    # THEN the class is not offered at 09:00
    assert slots == []


def test_seats_of_one_session_block_an_overlapping_session_of_the_same_class() -> None:
    # GIVEN a 60-minute class with a seat taken at 09:00, and sessions every 30 minutes
    session = at(NEW_YORK, 2027, 6, 7, 9)
    seat = Occupancy(session, session + timedelta(hours=1), ("yoga", session))
    ada = calendar(every_day("09:00", "11:00"), occupied=[seat], seats_taken={session: 1})
    # WHEN the class is listed
    slots = slots_on(date(2027, 6, 7), service(service_id="yoga", capacity=5, interval=30), [ada])
    # THEN 09:30 (overlapping the 09:00 session) is not offered, 09:00 and 10:00 are
    assert [(slot.start, slot.seats_left) for slot in slots] == [(session, 4), (session + timedelta(hours=1), 5)]


def test_group_slot_reports_the_most_seats_any_listed_provider_has() -> None:
    # GIVEN two providers of a 5-seat class at 09:00, one with 4 seats taken and one with 1
    session = at(NEW_YORK, 2027, 6, 7, 9)
    ada = calendar(every_day("09:00", "10:00"), seats_taken={session: 4}, provider_id="ada")
    bob = calendar(every_day("09:00", "10:00"), seats_taken={session: 1}, provider_id="bob")
    # WHEN the class is listed
    slots = slots_on(date(2027, 6, 7), service(service_id="yoga", capacity=5), [ada, bob])
    # THEN both are listed and the slot shows 4 seats left
    assert [(slot.provider_ids, slot.seats_left) for slot in slots] == [(("ada", "bob"), 4)]


# --- check_start --------------------------------------------------------------------------------


def test_check_start_accepts_an_offered_start() -> None:
    # GIVEN a free provider
    ada = calendar(every_day("09:00", "12:00"))
    # WHEN 10:00 is checked
    verdict = check_start(service(), ada, booking_rules(), at(NEW_YORK, 2027, 6, 7, 10))
    # THEN it is accepted
    assert verdict is None


def test_check_start_calls_a_booked_start_slot_unavailable() -> None:
    # GIVEN a booking at 10:00
    booked = Occupancy(at(NEW_YORK, 2027, 6, 7, 10), at(NEW_YORK, 2027, 6, 7, 11))
    ada = calendar(every_day("09:00", "12:00"), occupied=[booked])
    # WHEN 10:30 is checked for a 30-minute service
    verdict = check_start(service(duration=30), ada, booking_rules(), at(NEW_YORK, 2027, 6, 7, 10, 30))
    # THEN the only reason is the booking
    assert verdict is StartRejection.SLOT_UNAVAILABLE


@pytest.mark.parametrize(
    ("hour", "minute", "why"),
    [
        pytest.param(10, 15, "not aligned to the 30-minute steps from 09:00", id="unaligned"),
        pytest.param(11, 30, "would end after the window closes at 12:00", id="does-not-fit"),
        pytest.param(8, 0, "before the window opens", id="outside-window"),
    ],
)
def test_check_start_calls_a_start_the_windows_do_not_offer_outside_availability(
    hour: int, minute: int, why: str
) -> None:
    # GIVEN a window 09:00-12:00 and a booking at 10:00 that would also be in the way
    booked = Occupancy(at(NEW_YORK, 2027, 6, 7, 10), at(NEW_YORK, 2027, 6, 7, 11))
    ada = calendar(every_day("09:00", "12:00"), occupied=[booked])
    # WHEN a start the windows never produce is checked
    verdict = check_start(service(), ada, booking_rules(), at(NEW_YORK, 2027, 6, 7, hour, minute))
    # THEN it is outside availability, whatever the bookings
    assert verdict is StartRejection.OUTSIDE_AVAILABILITY, why


def test_check_start_calls_a_start_inside_minimum_notice_outside_availability() -> None:
    # GIVEN now is 09:00 and one hour's notice is required
    ada = calendar(every_day("09:00", "12:00"))
    rules = booking_rules(now=at(NEW_YORK, 2027, 6, 7, 9), notice=60)
    # WHEN 09:30 is checked
    verdict = check_start(service(), ada, rules, at(NEW_YORK, 2027, 6, 7, 9, 30))
    # THEN it is outside availability
    assert verdict is StartRejection.OUTSIDE_AVAILABILITY


def test_check_start_refuses_a_missing_spring_forward_time_under_either_reading() -> None:
    # GIVEN a New York window 01:00-04:00 on the spring-forward day, stepping every 45 minutes,
    # so that 02:30 would be a step if it existed (01:00, 01:45, 02:30, 03:15, ...)
    ada = calendar(every_day("01:00", "04:00"))
    spec = service(duration=15, interval=45)
    # WHEN 02:30 is sent read as EST (07:30Z, really 03:30 EDT) or as EDT (06:30Z, really 01:30 EST)
    as_standard = check_start(spec, ada, booking_rules(), datetime(2027, 3, 14, 7, 30, tzinfo=UTC))
    as_daylight = check_start(spec, ada, booking_rules(), datetime(2027, 3, 14, 6, 30, tzinfo=UTC))
    # THEN neither is a start, while the real neighbours are
    assert as_standard is StartRejection.OUTSIDE_AVAILABILITY
    assert as_daylight is StartRejection.OUTSIDE_AVAILABILITY
    assert check_start(spec, ada, booking_rules(), at(NEW_YORK, 2027, 3, 14, 1, 45)) is None
    assert check_start(spec, ada, booking_rules(), at(NEW_YORK, 2027, 3, 14, 3, 15)) is None


def test_check_start_calls_the_second_occurrence_of_an_ambiguous_time_outside_availability() -> None:
    # GIVEN the New York fall-back day and a window 00:00-04:00 stepping every 30 minutes
    ada = calendar(every_day("00:00", "04:00"))
    spec = service(duration=30, interval=30)
    # WHEN 01:30 EDT and 01:30 EST are checked
    first = check_start(spec, ada, booking_rules(), at(NEW_YORK, 2027, 11, 7, 1, 30, fold=0))
    second = check_start(spec, ada, booking_rules(), at(NEW_YORK, 2027, 11, 7, 1, 30, fold=1))
    # THEN only the first occurrence is a start
    assert first is None
    assert second is StartRejection.OUTSIDE_AVAILABILITY


def test_check_start_calls_a_full_class_slot_unavailable() -> None:
    # GIVEN a 2-seat class at 09:00 with both seats taken
    session = at(NEW_YORK, 2027, 6, 7, 9)
    ada = calendar(every_day("09:00", "10:00"), seats_taken={session: 2})
    # WHEN 09:00 is checked
    verdict = check_start(service(service_id="yoga", capacity=2), ada, booking_rules(), session)
    # THEN the class is full
    assert verdict is StartRejection.SLOT_UNAVAILABLE


def test_check_start_accepts_a_start_given_with_any_offset() -> None:
    # GIVEN a free provider
    ada = calendar(every_day("09:00", "12:00"))
    # WHEN 10:00 New York is checked as a New York-aware datetime
    start = datetime(2027, 6, 7, 10, 0, tzinfo=ZoneInfo(NEW_YORK))
    # THEN it is accepted
    assert check_start(service(), ada, booking_rules(), start) is None


# --- Shape of the answer -------------------------------------------------------------------------


def test_reversed_date_range_lists_nothing() -> None:
    # GIVEN a provider with hours every day
    ada = calendar(every_day("09:00", "17:00"))
    # WHEN the end date precedes the start date
    slots = compute_slots(service(), [ada], booking_rules(), date(2027, 6, 8), date(2027, 6, 7), NEW_YORK)
    # THEN nothing is listed
    assert slots == []


def test_local_start_reads_a_slot_in_the_clients_zone() -> None:
    # GIVEN a slot start at 14:00 UTC in June
    start = datetime(2027, 6, 7, 14, 0, tzinfo=UTC)
    # WHEN it is read in New York
    local = local_start(start, NEW_YORK)
    # THEN it is 10:00 EDT
    assert local.isoformat() == "2027-06-07T10:00:00-04:00"


def test_naive_now_is_refused() -> None:
    # GIVEN rules whose now has no zone
    rules = BookingRules(now=datetime(2027, 6, 7, 9), min_notice_minutes=0, max_advance_days=30)
    # WHEN slots are computed THEN the programming error is reported
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_slots(
            service(), [calendar(every_day("09:00", "10:00"))], rules, date(2027, 6, 7), date(2027, 6, 7), NEW_YORK
        )


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"duration_minutes": 0}, id="no-duration"),
        pytest.param({"interval_minutes": 0}, id="no-step"),
        pytest.param({"capacity": 0}, id="no-seat"),
        pytest.param({"buffer_before_minutes": -5}, id="negative-buffer"),
    ],
)
def test_service_that_cannot_be_scheduled_is_refused(fields: dict[str, int]) -> None:
    # GIVEN a service shape that would make no sense to the engine
    shape = {
        "service_id": "massage",
        "duration_minutes": 60,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "interval_minutes": 30,
        "capacity": 1,
        **fields,
    }
    # WHEN it is built THEN the programming error is reported at once
    with pytest.raises(ValueError):
        ServiceSpec(**shape)  # type: ignore[arg-type]
