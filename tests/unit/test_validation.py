"""Value rules shared by every input: wall times, zones, currencies, emails, slugs, ranges, policies."""

from __future__ import annotations

import pytest

from chalicelib.domain.catalog import AvailabilityRule, PolicyTier, TimeRange
from chalicelib.domain.validation import (
    calendar_date,
    is_currency,
    is_email,
    is_slug,
    is_timezone,
    minutes_of_day,
    overlapping_pairs,
    policy_problem,
    range_problem,
    rule_overlaps,
)

# --- HH:MM -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "minutes"), [("00:00", 0), ("09:30", 570), ("12:05", 725), ("23:59", 1439)])
def test_a_wall_time_is_minutes_after_midnight(text: str, minutes: int) -> None:
    assert minutes_of_day(text) == minutes
    assert minutes_of_day(text, allow_24=True) == minutes


def test_midnight_at_the_end_of_the_day_is_allowed_only_where_a_range_ends() -> None:
    assert minutes_of_day("24:00", allow_24=True) == 1440
    assert minutes_of_day("24:00") is None


@pytest.mark.parametrize(
    "text",
    [
        "9:00",
        "09:0",
        "0900",
        "09.00",
        "24:01",
        "25:00",
        "12:60",
        "-1:00",
        "",
        "ab:cd",
        " 09:00",
        "09:00 ",
        "09:00\n",
        "09:00:00",
        "0\u0669:00",  # ARABIC-INDIC DIGIT NINE
        "09:3\u0660",  # ARABIC-INDIC DIGIT ZERO
        "\uff11\uff12:\uff10\uff10",  # full-width digits
    ],
)
def test_anything_but_ascii_hh_mm_is_not_a_wall_time(text: str) -> None:
    assert minutes_of_day(text) is None
    assert minutes_of_day(text, allow_24=True) is None


# --- zones, currencies, emails, slugs, dates ---------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_iana_zone_names_are_timezones(zone: str) -> None:
    assert is_timezone(zone)


@pytest.mark.parametrize(
    "zone", ["", "Mars/Olympus", "america/new_york", "EST5EDT ", "../../etc/passwd", "/etc/localtime", "+05:00"]
)
def test_other_names_are_not_timezones(zone: str) -> None:
    assert not is_timezone(zone)


@pytest.mark.parametrize(
    ("code", "known"),
    [("USD", True), ("EUR", True), ("JPY", True), ("usd", False), ("XXX", False), ("EURO", False), ("", False)],
)
def test_currencies_are_active_upper_case_iso_4217_codes(code: str, known: bool) -> None:
    assert is_currency(code) is known


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "o'neil@example.ie"])
def test_plausible_emails_are_accepted(email: str) -> None:
    assert is_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "a@b",
        "@b.co",
        "a@.co",
        "a b@c.de",
        "a@b@c.de",
        "a@b.c",
        "a@b.co\n",
        "x" * 65 + "@b.co",
        "a@" + "b" * 250 + ".co",
    ],
)
def test_implausible_emails_are_refused(email: str) -> None:
    assert not is_email(email)


@pytest.mark.parametrize("slug", ["acme", "a1-b2", "abc", "a" * 50, "dr-smith-dental"])
def test_lower_case_slugs_of_3_to_50_characters_are_accepted(slug: str) -> None:
    assert is_slug(slug)


@pytest.mark.parametrize("slug", ["", "ab", "a" * 51, "-acme", "acme-", "Acme", "ac me", "ac_me", "acmé", "acme\n"])
def test_other_slugs_are_refused(slug: str) -> None:
    assert not is_slug(slug)


def test_a_calendar_date_is_yyyy_mm_dd_only() -> None:
    assert calendar_date("2027-03-14") is not None
    for text in ("2027-02-30", "20270314", "2027-W11-7", "2027-073", "14-03-2027", "2027-3-14", "2027-03-14\n"):
        assert calendar_date(text) is None, text


# --- ranges ----------------------------------------------------------------------------------


def test_a_range_that_starts_before_it_ends_has_no_problem() -> None:
    assert range_problem(TimeRange("09:00", "17:00")) is None
    assert range_problem(TimeRange("00:00", "24:00")) is None


@pytest.mark.parametrize(
    ("start", "end", "word"),
    [
        ("17:00", "09:00", "before"),
        ("09:00", "09:00", "before"),
        ("24:00", "24:00", "start"),
        ("9", "10:00", "start"),
        ("09:00", "25:00", "end"),
    ],
)
def test_a_range_problem_says_what_is_wrong(start: str, end: str, word: str) -> None:
    problem = range_problem(TimeRange(start, end))

    assert problem is not None and word in problem


def test_ranges_that_touch_do_not_overlap() -> None:
    assert overlapping_pairs([TimeRange("09:00", "12:00"), TimeRange("12:00", "24:00")]) == []


def test_overlapping_ranges_are_reported_by_their_input_positions() -> None:
    ranges = [TimeRange("13:00", "15:00"), TimeRange("08:00", "09:00"), TimeRange("14:00", "16:00")]

    assert overlapping_pairs(ranges) == [(0, 2)]


def test_every_overlapping_pair_is_reported_even_across_a_contained_range() -> None:
    ranges = [TimeRange("09:00", "17:00"), TimeRange("10:00", "11:00"), TimeRange("12:00", "13:00")]

    assert sorted(overlapping_pairs(ranges)) == [(0, 1), (0, 2)]


def test_identical_ranges_overlap() -> None:
    assert overlapping_pairs([TimeRange("09:00", "10:00"), TimeRange("09:00", "10:00")]) == [(0, 1)]


def test_rules_overlap_only_on_the_same_day_for_services_that_can_coincide() -> None:
    rules = [
        AvailabilityRule(0, "09:00", "12:00"),  # all services
        AvailabilityRule(1, "09:00", "12:00"),  # other day
        AvailabilityRule(2, "09:00", "12:00", ("svc_a",)),
        AvailabilityRule(2, "10:00", "13:00", ("svc_b",)),  # different service: may overlap
        AvailabilityRule(0, "11:00", "14:00", ("svc_a",)),  # overlaps rule 0 (which covers svc_a)
        AvailabilityRule(2, "11:00", "11:30", ("svc_b", "svc_c")),  # overlaps rule 3 through svc_b
        AvailabilityRule(1, "12:00", "13:00"),  # touches rule 1
    ]

    assert rule_overlaps(rules) == [(0, 4), (3, 5)]


# --- cancellation policy tiers ---------------------------------------------------------------


def test_strictly_decreasing_tiers_within_0_to_100_percent_are_a_policy() -> None:
    assert policy_problem([PolicyTier(48, 100), PolicyTier(24, 50), PolicyTier(0, 0)]) is None
    assert policy_problem([PolicyTier(0, 100)]) is None


@pytest.mark.parametrize(
    ("tiers", "word"),
    [
        ([], "at least one"),
        ([PolicyTier(0, 0), PolicyTier(24, 50)], "ordered"),
        ([PolicyTier(24, 100), PolicyTier(24, 50)], "ordered"),
        ([PolicyTier(24, 101)], "refundPercent"),
        ([PolicyTier(24, -1)], "refundPercent"),
        ([PolicyTier(-1, 50)], "minHoursBefore"),
        ([PolicyTier(48, 50), PolicyTier(24, 100)], "must not grow"),
    ],
)
def test_a_policy_problem_names_the_broken_rule(tiers: list[PolicyTier], word: str) -> None:
    problem = policy_problem(tiers)

    assert problem is not None and word in problem
