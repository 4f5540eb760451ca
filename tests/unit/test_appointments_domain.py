"""The appointment's pure rules: its state machine, lock quanta, action tokens, intake answers,
fair provider assignment and what is due at booking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.appointments import (
    ACTIVE,
    Action,
    Appointment,
    AppointmentStatus,
    ClientInfo,
    apply_transition,
    check_transition,
    rescheduled,
)
from chalicelib.domain.assignment import pick_provider
from chalicelib.domain.catalog import IntakeField, IntakeFieldType, Prepayment, Service, default_prepayment
from chalicelib.domain.credentials import hash_secret
from chalicelib.domain.errors import ConflictError, PaymentRequiredError, RuleViolationError, TokenGoneError
from chalicelib.domain.intake import MAX_TEXT, MAX_TEXTAREA, intake_problems
from chalicelib.domain.locks import lock_quanta, plan_move
from chalicelib.domain.rejections import outside_availability_details
from chalicelib.domain.slots import BookingRules
from chalicelib.domain.tokens import SELF_SERVICE_ACTIONS, TOKEN_BYTES, ActionToken, check_token, mint_token
from chalicelib.services.booking import amount_due_now

START = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
BEFORE_START = START - timedelta(days=1)
AFTER_START = START + timedelta(minutes=5)


def appointment(status: AppointmentStatus = AppointmentStatus.CONFIRMED, **changes: Any) -> Appointment:
    base = Appointment(
        id="apt_1",
        tenant_id="ten_1",
        service_id="svc_1",
        service_name="Massage",
        provider_id="prv_1",
        status=status,
        start=START,
        end=START + timedelta(minutes=60),
        timezone="America/New_York",
        client=ClientInfo("Ann", "ann@example.test", None, "America/New_York"),
        intake={},
        price_cents=5000,
        currency="USD",
        buffer_before_minutes=10,
        buffer_after_minutes=15,
        capacity=1,
        created_at=BEFORE_START - timedelta(days=1),
        updated_at=BEFORE_START - timedelta(days=1),
        hold_until=BEFORE_START + timedelta(minutes=30) if status is AppointmentStatus.PENDING else None,
        version=3,
    )
    return replace(base, **changes)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, 3, 15, hour, minute, second, tzinfo=UTC)


# --- state machine ---------------------------------------------------------------------------

# (action, from status) -> resulting status; every pair not listed is illegal.
LEGAL: dict[tuple[Action, AppointmentStatus], AppointmentStatus] = {
    (Action.CANCEL, AppointmentStatus.PENDING): AppointmentStatus.CANCELLED,
    (Action.CANCEL, AppointmentStatus.CONFIRMED): AppointmentStatus.CANCELLED,
    (Action.CONFIRM, AppointmentStatus.PENDING): AppointmentStatus.CONFIRMED,
    (Action.EXPIRE, AppointmentStatus.PENDING): AppointmentStatus.EXPIRED,
    (Action.COMPLETE, AppointmentStatus.CONFIRMED): AppointmentStatus.COMPLETED,
    (Action.NO_SHOW, AppointmentStatus.CONFIRMED): AppointmentStatus.NO_SHOW,
}
STATE_CHANGES = [Action.CANCEL, Action.CONFIRM, Action.EXPIRE, Action.COMPLETE, Action.NO_SHOW]
# A moment at which the time rules allow each action, so only the status decides.
LEGAL_MOMENT = {
    Action.CANCEL: BEFORE_START,
    Action.CONFIRM: BEFORE_START,
    Action.EXPIRE: BEFORE_START + timedelta(hours=1),  # after the hold ran out
    Action.COMPLETE: AFTER_START,
    Action.NO_SHOW: AFTER_START,
}


@pytest.mark.parametrize("status", list(AppointmentStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("action", STATE_CHANGES, ids=lambda a: a.value)
def test_every_state_change_from_every_status_is_legal_exactly_as_the_table_says(
    action: Action, status: AppointmentStatus
) -> None:
    before = appointment(status)
    now = LEGAL_MOMENT[action]

    if (action, status) in LEGAL:
        after = apply_transition(before, action, now)
        assert after.status is LEGAL[(action, status)]
        assert after.version == before.version + 1
        assert after.updated_at == now
    else:
        with pytest.raises(ConflictError):
            apply_transition(before, action, now)


@pytest.mark.parametrize("status", list(AppointmentStatus), ids=lambda s: s.value)
def test_only_an_active_appointment_can_be_rescheduled(status: AppointmentStatus) -> None:
    before = appointment(status)
    new_start = START + timedelta(minutes=15)

    if status in ACTIVE:
        after = rescheduled(before, new_start, "prv_2", "Europe/Berlin", BEFORE_START)
        assert (after.start, after.end) == (new_start, new_start + timedelta(minutes=60))
        assert (after.provider_id, after.timezone) == ("prv_2", "Europe/Berlin")
        assert after.status is status
        assert after.version == before.version + 1
    else:
        with pytest.raises(ConflictError):
            rescheduled(before, new_start, "prv_1", "America/New_York", BEFORE_START)


def test_cancelling_records_the_reason_and_drops_the_hold() -> None:
    held = appointment(AppointmentStatus.PENDING)

    cancelled = apply_transition(held, Action.CANCEL, BEFORE_START, "changed my mind")

    assert cancelled.cancel_reason == "changed my mind"
    assert cancelled.hold_until is None


@pytest.mark.parametrize("action", [Action.COMPLETE, Action.NO_SHOW], ids=lambda a: a.value)
def test_a_future_appointment_cannot_be_completed_or_marked_no_show(action: Action) -> None:
    with pytest.raises(ConflictError):
        apply_transition(appointment(), action, START - timedelta(seconds=1))


@pytest.mark.parametrize("action", [Action.COMPLETE, Action.NO_SHOW], ids=lambda a: a.value)
def test_an_appointment_can_be_completed_or_marked_no_show_from_its_start(action: Action) -> None:
    assert apply_transition(appointment(), action, START).status is not AppointmentStatus.CONFIRMED


@pytest.mark.parametrize("now", [START, AFTER_START], ids=["at-start", "after-start"])
def test_an_appointment_that_has_started_cannot_be_rescheduled(now: datetime) -> None:
    with pytest.raises(ConflictError):
        check_transition(appointment(), Action.RESCHEDULE, now)
    with pytest.raises(ConflictError):
        rescheduled(appointment(), START + timedelta(days=1), "prv_1", "America/New_York", now)


def test_a_hold_is_active_until_its_hold_until_and_not_at_it() -> None:
    held = appointment(AppointmentStatus.PENDING)
    assert held.hold_until is not None

    assert held.is_active(held.hold_until - timedelta(seconds=1))
    assert not held.is_active(held.hold_until)


def test_a_confirmed_appointment_is_active_and_a_finished_one_is_not() -> None:
    assert appointment(AppointmentStatus.CONFIRMED).is_active(AFTER_START)
    for status in set(AppointmentStatus) - ACTIVE:
        assert not appointment(status).is_active(BEFORE_START)


@pytest.mark.parametrize("action", [Action.CANCEL, Action.RESCHEDULE], ids=lambda a: a.value)
def test_an_expired_hold_cannot_be_cancelled_or_rescheduled(action: Action) -> None:
    held = appointment(AppointmentStatus.PENDING)
    assert held.hold_until is not None

    with pytest.raises(ConflictError):
        check_transition(held, action, held.hold_until)


def test_an_expired_hold_can_be_expired() -> None:
    held = appointment(AppointmentStatus.PENDING)
    assert held.hold_until is not None

    expired = apply_transition(held, Action.EXPIRE, held.hold_until)

    assert expired.status is AppointmentStatus.EXPIRED
    assert expired.hold_until is None


def test_a_hold_that_has_not_run_out_cannot_be_expired() -> None:
    held = appointment(AppointmentStatus.PENDING)
    assert held.hold_until is not None

    with pytest.raises(ConflictError):
        apply_transition(held, Action.EXPIRE, held.hold_until - timedelta(seconds=1))


def test_occupied_time_is_the_appointment_widened_by_its_buffers() -> None:
    assert appointment().occupied == (START - timedelta(minutes=10), START + timedelta(minutes=75))


# --- lock quanta -----------------------------------------------------------------------------


def test_an_aligned_interval_takes_exactly_its_quanta_and_not_the_one_at_its_end() -> None:
    assert lock_quanta(at(10), at(10, 15)) == [at(10), at(10, 5), at(10, 10)]


def test_an_unaligned_interval_takes_every_quantum_it_touches() -> None:
    assert lock_quanta(at(10, 2), at(10, 11)) == [at(10), at(10, 5), at(10, 10)]


def test_an_interval_ending_one_second_into_a_quantum_takes_that_quantum() -> None:
    assert lock_quanta(at(10), at(10, 5, 1)) == [at(10), at(10, 5)]


def test_an_empty_interval_takes_nothing() -> None:
    assert lock_quanta(at(10), at(10)) == []


def test_quanta_are_utc_whatever_zone_the_interval_is_given_in() -> None:
    from zoneinfo import ZoneInfo

    local = at(10).astimezone(ZoneInfo("Asia/Kolkata"))  # a +05:30 zone

    quanta = lock_quanta(local, local + timedelta(minutes=10))

    assert quanta == [at(10), at(10, 5)]
    assert all(q.tzinfo is UTC for q in quanta)


def test_back_to_back_intervals_share_no_quantum_and_overlapping_ones_do() -> None:
    first = set(lock_quanta(at(10), at(11)))

    assert not first & set(lock_quanta(at(11), at(11, 30)))
    assert first & set(lock_quanta(at(10, 55), at(11, 30))) == {at(10, 55)}


def test_moving_by_15_minutes_keeps_the_shared_quanta_in_place() -> None:
    old = lock_quanta(at(10), at(11))
    new = lock_quanta(at(10, 15), at(11, 15))

    plan = plan_move(old, new)

    assert plan.release == [at(10), at(10, 5), at(10, 10)]
    assert plan.claim == [at(11), at(11, 5), at(11, 10)]
    assert plan.keep == lock_quanta(at(10, 15), at(11))
    assert not set(plan.release) & set(plan.claim)


def test_a_cancel_releases_every_quantum() -> None:
    old = lock_quanta(at(10), at(11))

    plan = plan_move(old, [])

    assert (plan.release, plan.claim, plan.keep) == (old, [], [])


def test_a_disjoint_move_releases_all_and_claims_all() -> None:
    old, new = lock_quanta(at(10), at(11)), lock_quanta(at(12), at(13))

    plan = plan_move(old, new)

    assert (plan.release, plan.claim, plan.keep) == (old, new, [])


# --- action tokens ---------------------------------------------------------------------------


def token_for(target: Appointment, **changes: Any) -> ActionToken:
    return replace(mint_token(target).record, **changes)


def test_a_minted_token_is_32_random_bytes_stored_only_as_its_hash() -> None:
    target = appointment()

    first, second = mint_token(target), mint_token(target)

    assert len(first.plaintext) >= 43  # 32 bytes, url-safe base64
    assert first.plaintext != second.plaintext
    assert first.record.hash == hash_secret(first.plaintext)
    assert first.plaintext not in repr(first.record)
    assert TOKEN_BYTES == 32


def test_a_minted_token_is_for_the_current_version_and_expires_at_the_start() -> None:
    target = appointment()

    record = mint_token(target).record

    assert (record.appointment_id, record.version, record.expires_at) == (target.id, target.version, target.start)
    assert record.actions == SELF_SERVICE_ACTIONS
    assert not record.used


def test_a_fresh_token_allows_its_actions() -> None:
    target = appointment()
    token = token_for(target)

    for action in SELF_SERVICE_ACTIONS:
        check_token(token, target, action, BEFORE_START)


@pytest.mark.parametrize(
    "case",
    ["missing", "another appointment", "used", "before the last move", "expired at start", "expired after start"],
)
def test_a_token_that_cannot_act_is_gone(case: str) -> None:
    target = appointment()
    target = replace(target, links_from_version=target.version)  # the last change was a move
    token: ActionToken | None = token_for(target)
    now = BEFORE_START
    if case == "missing":
        token = None
    elif case == "another appointment":
        token = token_for(replace(target, id="apt_2"))
    elif case == "used":
        token = token_for(target, used=True)
    elif case == "before the last move":
        token = token_for(replace(target, version=target.version - 1))
    elif case == "expired at start":
        now = START
    elif case == "expired after start":
        now = AFTER_START

    with pytest.raises(TokenGoneError):
        check_token(token, target, Action.CANCEL, now)


def test_a_token_dies_when_the_appointment_changes_state() -> None:
    target = appointment()
    token = token_for(target)

    cancelled = apply_transition(target, Action.CANCEL, BEFORE_START)

    with pytest.raises(TokenGoneError):
        check_token(token, cancelled, Action.VIEW, BEFORE_START)


def test_a_token_outlives_version_bumps_that_are_not_a_move_or_a_cancellation() -> None:
    # GIVEN a token minted for a pending hold, which payment then confirms (a new version)
    hold = replace(appointment(), status=AppointmentStatus.PENDING, version=1, links_from_version=1)
    token = token_for(hold)
    confirmed = replace(hold, status=AppointmentStatus.CONFIRMED, version=2)

    # THEN it still allows every self-service action
    for action in SELF_SERVICE_ACTIONS:
        check_token(token, confirmed, action, BEFORE_START)


def test_a_reschedule_ends_every_earlier_token_and_a_later_one_works() -> None:
    target = appointment()
    earlier = token_for(target)

    moved = rescheduled(target, START + timedelta(days=1), target.provider_id, target.timezone, BEFORE_START)

    with pytest.raises(TokenGoneError):
        check_token(earlier, moved, Action.VIEW, BEFORE_START)
    check_token(token_for(moved), moved, Action.RESCHEDULE, BEFORE_START)


def test_a_token_ends_at_the_current_start_even_if_it_was_minted_to_last_longer() -> None:
    target = appointment()
    token = replace(token_for(target), expires_at=START + timedelta(days=7))

    with pytest.raises(TokenGoneError):
        check_token(token, target, Action.VIEW, START)


def test_a_token_cannot_do_an_action_it_does_not_name() -> None:
    target = appointment()
    view_only = token_for(target, actions=frozenset({Action.VIEW}))

    check_token(view_only, target, Action.VIEW, BEFORE_START)
    with pytest.raises(TokenGoneError):
        check_token(view_only, target, Action.CANCEL, BEFORE_START)


# --- intake answers --------------------------------------------------------------------------


def field(field_type: IntakeFieldType, required: bool = True, options: tuple[str, ...] = ()) -> IntakeField:
    return IntakeField("q", "Question", field_type, required, options)


GOOD_ANSWERS: list[tuple[IntakeFieldType, Any]] = [
    (IntakeFieldType.TEXT, "hello"),
    (IntakeFieldType.TEXTAREA, "line one\nline two"),
    (IntakeFieldType.SELECT, "b"),
    (IntakeFieldType.CHECKBOX, True),
    (IntakeFieldType.DATE, "1990-02-28"),
    (IntakeFieldType.PHONE, "+1 (555) 010-2030"),
    (IntakeFieldType.EMAIL, "ann@example.test"),
    (IntakeFieldType.NUMBER, 42),
    (IntakeFieldType.NUMBER, 2.5),
]
BAD_ANSWERS: list[tuple[IntakeFieldType, Any]] = [
    (IntakeFieldType.TEXT, "x" * (MAX_TEXT + 1)),
    (IntakeFieldType.TEXT, 7),
    (IntakeFieldType.TEXTAREA, "x" * (MAX_TEXTAREA + 1)),
    (IntakeFieldType.SELECT, "z"),
    (IntakeFieldType.SELECT, ["a"]),
    (IntakeFieldType.CHECKBOX, "yes"),
    (IntakeFieldType.DATE, "1990-02-30"),
    (IntakeFieldType.DATE, "28/02/1990"),
    (IntakeFieldType.DATE, "19900228"),
    (IntakeFieldType.DATE, "1990-W09-3"),
    (IntakeFieldType.PHONE, "call me"),
    (IntakeFieldType.EMAIL, "not-an-email"),
    (IntakeFieldType.NUMBER, "42"),
    (IntakeFieldType.NUMBER, True),
]


@pytest.mark.parametrize(("field_type", "value"), GOOD_ANSWERS, ids=repr)
def test_a_well_formed_answer_has_no_problem(field_type: IntakeFieldType, value: Any) -> None:
    assert intake_problems((field(field_type, options=("a", "b")),), {"q": value}) == {}


@pytest.mark.parametrize(("field_type", "value"), BAD_ANSWERS, ids=repr)
def test_a_malformed_answer_is_a_problem_of_that_field(field_type: IntakeFieldType, value: Any) -> None:
    problems = intake_problems((field(field_type, options=("a", "b")),), {"q": value})

    assert list(problems) == ["intake.q"]


@pytest.mark.parametrize("missing", [None, "", "absent"])
def test_a_required_answer_that_is_missing_or_empty_is_required(missing: Any) -> None:
    answers = {} if missing == "absent" else {"q": missing}

    assert intake_problems((field(IntakeFieldType.TEXT),), answers) == {"intake.q": "is required"}


def test_a_required_checkbox_must_be_ticked() -> None:
    assert intake_problems((field(IntakeFieldType.CHECKBOX),), {"q": False}) == {"intake.q": "is required"}


def test_an_optional_field_may_be_left_out() -> None:
    assert intake_problems((field(IntakeFieldType.EMAIL, required=False),), {}) == {}


def test_an_answer_to_no_field_of_the_service_is_a_problem() -> None:
    problems = intake_problems((field(IntakeFieldType.TEXT),), {"q": "fine", "extra": 1})

    assert list(problems) == ["intake.extra"]


def test_every_bad_field_is_reported_at_once() -> None:
    fields = (
        IntakeField("name", "Name", IntakeFieldType.TEXT, True),
        IntakeField("age", "Age", IntakeFieldType.NUMBER, True),
        IntakeField("ok", "Fine", IntakeFieldType.TEXT, False),
    )

    problems = intake_problems(fields, {"age": "old", "ok": "yes"})

    assert set(problems) == {"intake.name", "intake.age"}


# --- fair assignment -------------------------------------------------------------------------

EARLY, LATE = at(8), at(9)


def test_the_provider_with_fewest_bookings_that_day_is_picked() -> None:
    chosen = pick_provider(["ann", "bob", "cy"], {"ann": 2, "bob": 1, "cy": 3}, {"bob": LATE})

    assert chosen == "bob"


def test_a_tie_goes_to_the_least_recently_booked() -> None:
    assert pick_provider(["ann", "bob"], {"ann": 1, "bob": 1}, {"ann": LATE, "bob": EARLY}) == "bob"


def test_a_never_booked_provider_wins_a_tie() -> None:
    assert pick_provider(["ann", "bob"], {}, {"ann": EARLY}) == "bob"


def test_a_full_tie_goes_to_the_smallest_id() -> None:
    assert pick_provider(["cy", "ann", "bob"], {}, {}) == "ann"


def test_no_candidate_means_no_pick() -> None:
    assert pick_provider([], {}, {}) is None


# --- why a start is outside availability ------------------------------------------------------

RULES = BookingRules(now=datetime(2027, 3, 1, 12, 0, tzinfo=UTC), min_notice_minutes=120, max_advance_days=14)


def test_a_start_inside_the_notice_is_rejected_for_the_notice() -> None:
    details = outside_availability_details(RULES, RULES.now + timedelta(minutes=119), "America/New_York")

    assert details == {"reason": "before_min_notice", "minNoticeMinutes": 120}


def test_a_start_after_the_last_bookable_local_date_is_rejected_for_the_horizon() -> None:
    # 14 days after Monday 2027-03-01 in New York is 2027-03-15; the 16th is beyond it.
    last_day = datetime(2027, 3, 16, 3, 59, tzinfo=UTC)  # 23:59 on the 15th in New York (EDT)
    first_day_after = datetime(2027, 3, 16, 4, 0, tzinfo=UTC)

    assert outside_availability_details(RULES, last_day, "America/New_York") == {"reason": "not_a_slot_start"}
    assert outside_availability_details(RULES, first_day_after, "America/New_York") == {
        "reason": "beyond_max_advance",
        "maxAdvanceDays": 14,
    }


def test_any_other_rejected_start_is_not_a_slot_start() -> None:
    assert outside_availability_details(RULES, RULES.now + timedelta(days=2), "UTC") == {"reason": "not_a_slot_start"}


# --- amount due at booking -------------------------------------------------------------------


def service(
    price: int = 10_000,
    deposit_cents: int | None = None,
    deposit_percent: int | None = None,
    prepayment: Prepayment | None = None,
) -> Service:
    return Service(
        id="svc_1",
        name="Massage",
        description="",
        duration_minutes=60,
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        slot_interval_minutes=None,
        price_cents=price,
        currency="USD",
        deposit_cents=deposit_cents,
        deposit_percent=deposit_percent,
        capacity=1,
        active=True,
        intake_fields=(),
        cancellation_policy=None,
        prepayment=prepayment or default_prepayment(deposit_cents, deposit_percent),
        created_at=BEFORE_START,
        updated_at=BEFORE_START,
    )


def test_paying_in_full_is_due_the_whole_price() -> None:
    assert amount_due_now(service(deposit_cents=2000), "full") == 10_000


def test_a_fixed_deposit_is_due_when_paying_a_deposit_or_not_choosing() -> None:
    assert amount_due_now(service(deposit_cents=2000), "deposit") == 2000
    assert amount_due_now(service(deposit_cents=2000), None) == 2000


def test_a_percent_deposit_is_that_share_of_the_price_rounded_down() -> None:
    assert amount_due_now(service(price=9999, deposit_percent=25), "deposit") == 2499


def test_nothing_is_due_without_a_deposit_unless_paying_in_full() -> None:
    assert amount_due_now(service(), None) == 0


def test_asking_to_pay_a_deposit_the_service_does_not_take_is_a_rule_violation() -> None:
    with pytest.raises(RuleViolationError):
        amount_due_now(service(), "deposit")


@pytest.mark.parametrize(
    ("prepayment", "payment", "due"),
    [
        (Prepayment.NONE, None, 0),
        (Prepayment.NONE, "deposit", 2000),
        (Prepayment.NONE, "full", 10_000),
        (Prepayment.DEPOSIT, None, 2000),
        (Prepayment.DEPOSIT, "deposit", 2000),
        (Prepayment.DEPOSIT, "full", 10_000),
        (Prepayment.FULL, None, 10_000),
        (Prepayment.FULL, "full", 10_000),
    ],
)
def test_a_booking_pays_what_the_service_requires_or_more(
    prepayment: Prepayment, payment: str | None, due: int
) -> None:
    assert amount_due_now(service(deposit_cents=2000, prepayment=prepayment), payment) == due


def test_paying_only_the_deposit_of_a_service_paid_in_full_is_payment_required() -> None:
    with pytest.raises(PaymentRequiredError) as raised:
        amount_due_now(service(deposit_cents=2000, prepayment=Prepayment.FULL), "deposit")

    assert raised.value.code == "payment_required"
    assert raised.value.details["prepayment"] == "full"


def test_the_default_prepayment_follows_the_deposit() -> None:
    assert default_prepayment(None, None) is Prepayment.NONE
    assert default_prepayment(2000, None) is Prepayment.DEPOSIT
    assert default_prepayment(None, 25) is Prepayment.DEPOSIT
