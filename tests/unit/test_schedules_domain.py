"""Which one-time schedules an appointment needs, the at() expressions EventBridge Scheduler
accepts, and which business event each change of an appointment is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.appointments import (
    Action,
    Appointment,
    AppointmentStatus,
    ClientInfo,
    apply_transition,
    rescheduled,
)
from chalicelib.domain.schedules import (
    EXPIRE_HOLD_TASK,
    REMINDER_TASK,
    OneTimeSchedule,
    hold_expiry_schedule,
    reminder_schedules,
)
from chalicelib.gateways.scheduler import (
    InMemoryScheduler,
    InvalidScheduleError,
    at_expression,
    parse_at_expression,
    validate,
)
from chalicelib.services.dispatcher import Transition, classify

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT_OFFSETS = (1440, 60)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def appointment(start: datetime, **fields: object) -> Appointment:
    base = Appointment(
        id="apt_1",
        tenant_id="tn_1",
        service_id="svc_1",
        service_name="Massage",
        provider_id="prv_1",
        status=AppointmentStatus.CONFIRMED,
        start=start,
        end=start + timedelta(hours=1),
        timezone="America/New_York",
        client=ClientInfo("Ann", "ann@example.test", None, "America/New_York"),
        intake={},
        price_cents=0,
        currency="USD",
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        capacity=1,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- reminder_schedules ----------------------------------------------------------------------


def test_one_reminder_per_offset_named_from_id_offset_and_version_with_its_payload() -> None:
    booked = appointment(ny(2027, 3, 16, 10), version=3)

    planned = reminder_schedules(booked, DEFAULT_OFFSETS, NOW)

    assert [s.name for s in planned] == ["rem-apt_1-1440-v3", "rem-apt_1-60-v3"]
    assert [s.at for s in planned] == [utc("2027-03-15T14:00:00Z"), utc("2027-03-16T13:00:00Z")]
    assert planned[1].payload == {
        "task": REMINDER_TASK,
        "tenantId": "tn_1",
        "appointmentId": "apt_1",
        "version": 3,
        "offsetMinutes": 60,
    }


def test_repeated_offsets_give_one_schedule_each() -> None:
    planned = reminder_schedules(appointment(ny(2027, 3, 16, 10)), (60, 1440, 60), NOW)

    assert [s.name for s in planned] == ["rem-apt_1-1440-v1", "rem-apt_1-60-v1"]


def test_an_offset_already_past_is_skipped_not_fired_late() -> None:
    # 10:00 EDT tomorrow; it is 20:00 EDT today, so the 24-hour reminder's moment has gone
    booked = appointment(ny(2027, 3, 16, 10))

    planned = reminder_schedules(booked, DEFAULT_OFFSETS, ny(2027, 3, 15, 20))

    assert [s.name for s in planned] == ["rem-apt_1-60-v1"]


def test_an_offset_falling_exactly_on_now_is_skipped() -> None:
    booked = appointment(ny(2027, 3, 16, 10))

    planned = reminder_schedules(booked, (60,), ny(2027, 3, 16, 9))

    assert planned == []


def test_every_offset_past_gives_no_schedule() -> None:
    assert reminder_schedules(appointment(ny(2027, 3, 16, 10)), DEFAULT_OFFSETS, ny(2027, 3, 16, 9, 30)) == []


def test_a_start_with_fractions_of_a_second_rounds_the_reminder_up_to_the_next_second() -> None:
    booked = appointment(utc("2027-03-16T14:00:00.250000Z"))

    (planned,) = reminder_schedules(booked, (60,), NOW)

    assert planned.at == utc("2027-03-16T13:00:01Z")
    assert at_expression(planned.at) == "at(2027-03-16T13:00:01)"


def test_24h_reminder_of_a_9am_appointment_the_day_after_spring_forward_is_at_13h_utc() -> None:
    # GIVEN 09:00 EDT on Monday 2027-03-15; New York sprang forward at 02:00 on Sunday the 14th
    booked = appointment(ny(2027, 3, 15, 9))
    assert booked.start == utc("2027-03-15T13:00:00Z")

    # WHEN its reminders are planned
    day_before = reminder_schedules(booked, (1440,), NOW)[0]

    # THEN the 24-hour one fires 24 real hours earlier: 13:00Z, which is 09:00 EDT on the 14th
    assert day_before.at == utc("2027-03-14T13:00:00Z")
    assert day_before.at.astimezone(NEW_YORK).hour == 9
    assert at_expression(day_before.at) == "at(2027-03-14T13:00:00)"


def test_24h_reminder_of_a_9am_appointment_on_the_fall_back_day_is_24_real_hours_earlier() -> None:
    # GIVEN 09:00 EST on Sunday 2027-11-07, hours after New York fell back at 02:00 EDT
    booked = appointment(ny(2027, 11, 7, 9))
    assert booked.start == utc("2027-11-07T14:00:00Z")

    day_before = reminder_schedules(booked, (1440,), NOW)[0]

    # THEN it fires 24 elapsed hours before: 14:00Z on the 6th, 10:00 EDT by the wall clock
    assert day_before.at == utc("2027-11-06T14:00:00Z")
    assert day_before.at.astimezone(NEW_YORK).hour == 10


def test_24h_reminder_of_a_9am_appointment_the_day_after_fall_back_is_at_14h_utc() -> None:
    booked = appointment(ny(2027, 11, 8, 9))  # 09:00 EST = 14:00Z

    day_before = reminder_schedules(booked, (1440,), NOW)[0]

    assert day_before.at == utc("2027-11-07T14:00:00Z")  # 09:00 EST on the 7th
    assert day_before.at.astimezone(NEW_YORK).hour == 9


def test_a_pending_hold_expires_at_its_hold_until_rounded_up() -> None:
    hold = appointment(
        ny(2027, 3, 16, 10),
        status=AppointmentStatus.PENDING,
        hold_until=utc("2027-03-01T12:30:00.000001Z"),
        version=2,
    )

    schedule = hold_expiry_schedule(hold)

    assert schedule == OneTimeSchedule(
        "hold-apt_1-v2",
        utc("2027-03-01T12:30:01Z"),
        {"task": EXPIRE_HOLD_TASK, "tenantId": "tn_1", "appointmentId": "apt_1", "version": 2},
    )


def test_an_appointment_without_a_hold_needs_no_expiry_schedule() -> None:
    assert hold_expiry_schedule(appointment(ny(2027, 3, 16, 10))) is None


# --- at() expressions and names ----------------------------------------------------------------


def test_at_expressions_are_utc_whatever_the_zone_of_the_instant() -> None:
    assert at_expression(ny(2027, 3, 15, 9)) == "at(2027-03-15T13:00:00)"
    assert parse_at_expression("at(2027-03-15T13:00:00)") == utc("2027-03-15T13:00:00Z")


@pytest.mark.parametrize(
    "expression",
    [
        "at(2027-02-30T10:00:00)",  # no such day
        "at(2027-02-29T10:00:00)",  # 2027 is not a leap year
        "at(2027-13-01T10:00:00)",
        "at(2027-03-15T24:00:00)",
        "at(2027-03-15T10:60:00)",
        "at(2027-03-15T10:00:60)",
        "at(0000-01-01T00:00:00)",
        "at(2027-03-15T10:00)",
        "at(2027-03-15 10:00:00)",
        "at(2027-03-15T10:00:00Z)",
        "at(2027-03-15T10:00:00+00:00)",
        "at(2027-3-15T10:00:00)",
        "at(\u0662\u0660\u0662\u0667-03-15T10:00:00)",  # Arabic-Indic digits are digits to int(), not to AWS
        "at(2027-03-15T10:00:00)\n",
        " at(2027-03-15T10:00:00)",
        "rate(5 minutes)",
        "cron(0 10 * * ? *)",
        "",
    ],
)
def test_an_expression_eventbridge_would_refuse_is_invalid(expression: str) -> None:
    with pytest.raises(InvalidScheduleError):
        parse_at_expression(expression)


def test_a_leap_day_is_a_real_date() -> None:
    assert parse_at_expression("at(2028-02-29T10:00:00)") == utc("2028-02-29T10:00:00Z")


def _schedule(name: str = "rem-apt_1-60-v1", at: datetime | None = None) -> OneTimeSchedule:
    return OneTimeSchedule(name, at or utc("2027-03-15T13:00:00Z"), {})


def test_validate_returns_the_at_expression_of_a_good_schedule() -> None:
    assert validate(_schedule()) == "at(2027-03-15T13:00:00)"
    assert validate(_schedule("a" * 64)) == "at(2027-03-15T13:00:00)"
    assert validate(_schedule("A-z_0.9")) == "at(2027-03-15T13:00:00)"


@pytest.mark.parametrize(
    "name", ["", "a" * 65, "rem apt", "rem/apt", "rem#apt", "rém-apt", "rem-apt\n", "rem:apt", "rem-apt-60-v1\r"]
)
def test_a_name_eventbridge_would_refuse_is_invalid(name: str) -> None:
    with pytest.raises(InvalidScheduleError):
        validate(_schedule(name))


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    with pytest.raises(InvalidScheduleError):
        validate(_schedule(at=datetime(2027, 3, 15, 13, 0)))


def test_the_fake_scheduler_validates_like_the_real_one_and_keeps_the_first_of_a_name() -> None:
    scheduler = InMemoryScheduler()
    first = _schedule(at=utc("2027-03-15T13:00:00Z"))

    scheduler.create(first)
    scheduler.create(_schedule(at=utc("2027-03-16T13:00:00Z")))  # a redelivery: same name
    with pytest.raises(InvalidScheduleError):
        scheduler.create(_schedule("bad name"))

    assert scheduler.schedules == {first.name: first}
    assert scheduler.due(utc("2027-03-15T13:00:00Z")) == [first]
    assert scheduler.due(utc("2027-03-15T12:59:59Z")) == []


# --- classify ----------------------------------------------------------------------------------

START = ny(2027, 3, 16, 10)
LATER = NOW + timedelta(minutes=5)


def confirmed() -> Appointment:
    return appointment(START)


def pending() -> Appointment:
    return appointment(START, status=AppointmentStatus.PENDING, hold_until=NOW + timedelta(minutes=30))


def test_a_new_confirmed_appointment_is_booked() -> None:
    assert classify(None, confirmed()) is Transition.BOOKED


def test_a_new_pending_appointment_is_a_hold() -> None:
    assert classify(None, pending()) is Transition.HELD


def test_a_paid_hold_is_confirmed() -> None:
    before = pending()
    after = apply_transition(before, Action.CONFIRM, LATER)

    assert classify(before, after) is Transition.CONFIRMED


def test_a_moved_appointment_is_rescheduled() -> None:
    before = confirmed()

    assert classify(before, rescheduled(before, START + timedelta(days=1), "prv_1", "America/New_York", LATER)) is (
        Transition.RESCHEDULED
    )


def test_an_appointment_moved_to_another_provider_is_rescheduled() -> None:
    before = confirmed()

    assert classify(before, rescheduled(before, START, "prv_2", "America/New_York", LATER)) is Transition.RESCHEDULED


def test_a_moved_hold_is_still_a_hold() -> None:
    before = pending()

    assert classify(before, rescheduled(before, START + timedelta(hours=2), "prv_1", "UTC", LATER)) is Transition.HELD


@pytest.mark.parametrize(
    ("before", "action", "now", "expected"),
    [
        (confirmed, Action.CANCEL, LATER, Transition.CANCELLED),
        (pending, Action.CANCEL, LATER, Transition.CANCELLED),
        (pending, Action.EXPIRE, NOW + timedelta(hours=1), Transition.EXPIRED),
        (confirmed, Action.COMPLETE, START + timedelta(hours=1), Transition.COMPLETED),
        (confirmed, Action.NO_SHOW, START + timedelta(hours=1), Transition.NO_SHOW),
    ],
)
def test_a_final_state_change_is_its_transition(
    before: object, action: Action, now: datetime, expected: Transition
) -> None:
    old = before()  # type: ignore[operator]

    assert classify(old, apply_transition(old, action, now)) is expected


def test_a_rewrite_of_the_same_version_is_nothing() -> None:
    same = confirmed()

    assert classify(same, replace(same, intake={"note": "x"})) is None


def test_a_removed_item_is_nothing() -> None:
    assert classify(confirmed(), None) is None


def test_a_new_version_that_changes_neither_status_nor_time_is_nothing() -> None:
    before = confirmed()

    assert classify(before, replace(before, version=2, cancel_reason="typo fixed")) is None
