"""Reading request bodies: JSON objects only, every field error collected under its JSON path."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from chalicelib.api.catalog_schema import parse_override, parse_rules, parse_service
from chalicelib.api.parsing import MAX_BODY_BYTES, FieldErrors, Reader, parse_json_object
from chalicelib.api.tenant_schema import apply_settings

from chalicelib.api.requests import decode_cursor, encode_cursor
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenant import Tenant

NOW = datetime(2027, 1, 4, tzinfo=UTC)


def _problems(data: Any, read: Any) -> dict[str, str]:
    """Run `read(reader)` over `data` and return what it collected."""
    errors = FieldErrors()
    read(Reader(data, errors))
    return errors.problems


# --- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, b"", b"  \n"])
def test_an_empty_body_is_an_empty_object(raw: bytes | None) -> None:
    assert parse_json_object(raw) == {}


def test_a_json_object_is_returned_as_a_dict() -> None:
    assert parse_json_object(b'{"name": "Acme", "n": 1}') == {"name": "Acme", "n": 1}


@pytest.mark.parametrize(
    ("raw", "details"),
    [
        (b'{"name": ', {"body": "malformed JSON"}),
        (b"\xff\xfe{}", {"body": "malformed JSON"}),
        (b"[1, 2]", {"body": "expected an object"}),
        (b'"text"', {"body": "expected an object"}),
        (b"null", {"body": "expected an object"}),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_validation_error(raw: bytes, details: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(raw)

    assert caught.value.details == details


def test_an_oversized_body_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}')

    assert caught.value.details == {"limitBytes": MAX_BODY_BYTES}


# --- field errors ----------------------------------------------------------------------------


def test_field_errors_keep_the_first_problem_of_each_path() -> None:
    errors = FieldErrors()
    errors.add("name", "is required")
    errors.add("name", "must be a string")

    with pytest.raises(ValidationError) as caught:
        errors.raise_if_any()

    assert caught.value.details == {"fields": {"name": "is required"}}


def test_no_field_errors_raise_nothing() -> None:
    FieldErrors().raise_if_any()


# --- scalar readers --------------------------------------------------------------------------


def test_strings_are_trimmed() -> None:
    errors = FieldErrors()

    assert Reader({"name": "  Acme  "}, errors).string("name") == "Acme"
    assert errors.problems == {}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, "is required"),
        ({"name": None}, "is required"),
        ({"name": 5}, "must be a string"),
        ({"name": "   "}, "must not be empty"),
        ({"name": "x" * 121}, "must be at most 120 characters"),
    ],
)
def test_a_bad_string_is_recorded_under_its_name(data: dict[str, Any], problem: str) -> None:
    assert _problems(data, lambda r: r.string("name", max_length=120)) == {"name": problem}


def test_an_optional_missing_field_takes_its_default_without_a_problem() -> None:
    errors = FieldErrors()
    reader = Reader({"capacity": None}, errors)

    assert reader.integer("capacity", required=False, default=1) == 1
    assert reader.string("description", required=False, default="") == ""
    assert errors.problems == {}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "must be an integer"),
        (1.5, "must be an integer"),
        ("3", "must be an integer"),
        (0, "must be >= 1"),
        (11, "must be <= 10"),
    ],
)
def test_a_bad_integer_is_recorded(value: Any, problem: str) -> None:
    problems = _problems({"n": value}, lambda r: r.integer("n", minimum=1, maximum=10))

    assert problems == {"n": problem}


def test_a_boolean_must_be_a_json_boolean() -> None:
    assert _problems({"active": "true"}, lambda r: r.boolean("active")) == {"active": "must be true or false"}
    assert _problems({"active": 0}, lambda r: r.boolean("active")) == {"active": "must be true or false"}


@pytest.mark.parametrize(
    ("read", "value"),
    [
        (lambda r: r.timezone("v"), "Mars/Olympus"),
        (lambda r: r.currency("v"), "usd"),
        (lambda r: r.currency("v"), "ABC"),
        (lambda r: r.email("v"), "nobody"),
        (lambda r: r.time_of_day("v"), "24:00"),
        (lambda r: r.time_of_day("v", allow_24=True), "24:30"),
    ],
)
def test_checked_values_record_a_problem_and_return_none(read: Any, value: str) -> None:
    errors = FieldErrors()

    assert read(Reader({"v": value}, errors)) is None
    assert set(errors.problems) == {"v"}


def test_a_reader_over_something_other_than_an_object_says_so_at_its_path() -> None:
    errors = FieldErrors()

    Reader({"branding": "blue"}, errors).obj("branding")

    assert errors.problems == {"branding": "expected an object"}


# --- lists -----------------------------------------------------------------------------------


def test_string_lists_are_trimmed_and_must_hold_non_empty_strings() -> None:
    errors = FieldErrors()
    reader = Reader({"ok": [" a ", "b"], "bad": ["a", ""], "mixed": ["a", 1]}, errors)

    assert reader.strings("ok") == ["a", "b"]
    assert reader.strings("bad") is None
    assert reader.strings("mixed") is None
    assert set(errors.problems) == {"bad", "mixed"}


def test_integer_lists_refuse_booleans_and_out_of_range_items() -> None:
    errors = FieldErrors()
    reader = Reader({"bools": [True], "range": [5, 500], "ok": [1, 2]}, errors)

    assert reader.integers("bools") is None
    assert reader.integers("range", minimum=1, maximum=100) is None
    assert reader.integers("ok") == [1, 2]
    assert set(errors.problems) == {"bools", "range"}


def test_items_over_the_limit_are_refused_as_a_whole() -> None:
    assert _problems({"rules": [{}] * 3}, lambda r: r.items("rules", max_items=2)) == {
        "rules": "must have at most 2 items"
    }


def test_nested_readers_report_json_paths() -> None:
    data = {"policy": {"tiers": [{"hours": 1}, {"hours": "x"}, "not an object"]}}
    errors = FieldErrors()

    tiers = Reader(data, errors).obj("policy").items("tiers")  # type: ignore[union-attr]
    for tier in tiers or []:
        tier.integer("hours")

    assert errors.problems == {"policy.tiers[1].hours": "must be an integer", "policy.tiers[2]": "expected an object"}


def test_a_whole_service_reports_every_bad_field_at_once_with_json_paths() -> None:
    body = {
        "durationMinutes": 0,
        "currency": "usd",
        "intakeFields": [
            {"id": "note", "label": "Note", "type": "text"},
            {"id": "pick", "label": "Pick", "type": "select"},
            {"id": "note", "label": "Again", "type": "colour"},
        ],
        "cancellationPolicy": {"tiers": [{"minHoursBefore": 24, "refundPercent": 150}]},
    }

    with pytest.raises(ValidationError) as caught:
        parse_service(body, service_id="svc_1", default_currency="USD", now=NOW)

    assert set(caught.value.details["fields"]) == {
        "name",
        "durationMinutes",
        "currency",
        "intakeFields[1].options",
        "intakeFields[2].id",
        "intakeFields[2].type",
        "cancellationPolicy.tiers[0].refundPercent",
    }


# --- cursors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("position", ["svc_abc", "2027-03-14#ovr_1", "é and spaces"])
def test_a_cursor_round_trips_its_position(position: str) -> None:
    assert decode_cursor(encode_cursor(position)) == position


def test_no_cursor_means_from_the_start() -> None:
    assert decode_cursor(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        "bm90IGpzb24",  # not json
        "WzFd",  # [1]
        "ImFmdGVyIg",  # "after"
        "eyJiZWZvcmUiOiAieCJ9",  # {"before": "x"}
        "eyJhZnRlciI6IDV9",  # {"after": 5}
        "__4",  # bytes ff fe
        "é",
    ],
)
def test_a_cursor_we_did_not_issue_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor)

    assert caught.value.details == {"fields": {"cursor": "invalid"}}


# --- the schemas behind the admin routes, case by case -----------------------------------------
# (tests/api shows each kind of rule end to end; here every shape of bad input is cheap to list.)

SERVICE = {"name": "Cleaning", "durationMinutes": 45, "priceCents": 9000}
TENANT = Tenant(
    id="tn1",
    name="Acme",
    slug="acme",
    timezone="UTC",
    currency="USD",
    email="a@acme.test",
    created_at=NOW,
    updated_at=NOW,
)


def _service_problems(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        parse_service(body, service_id="svc_1", default_currency="USD", now=NOW)
    return dict(caught.value.details["fields"])


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"durationMinutes": "30"}, "durationMinutes"),
        ({"durationMinutes": 30.5}, "durationMinutes"),
        ({"durationMinutes": None}, "durationMinutes"),
        ({"bufferBeforeMinutes": -5}, "bufferBeforeMinutes"),
        ({"priceCents": -1}, "priceCents"),
        ({"depositPercent": 0}, "depositPercent"),
        ({"depositPercent": 101}, "depositPercent"),
        ({"capacity": 1001}, "capacity"),
        ({"currency": "usd"}, "currency"),
        ({"active": "yes"}, "active"),
        ({"intakeFields": {"id": "x"}}, "intakeFields"),
        ({"intakeFields": [{"id": "x", "type": "text"}]}, "intakeFields[0].label"),
        ({"intakeFields": [{"label": "X", "type": "text"}]}, "intakeFields[0].id"),
        (
            {"intakeFields": [{"id": "x", "label": "X", "type": "select", "options": ["a", "a"]}]},
            "intakeFields[0].options",
        ),
        (
            {
                "cancellationPolicy": {
                    "tiers": [{"minHoursBefore": 24, "refundPercent": 50}, {"minHoursBefore": 24, "refundPercent": 0}]
                }
            },
            "cancellationPolicy.tiers",
        ),
        (
            {"cancellationPolicy": {"tiers": [{"minHoursBefore": 24, "refundPercent": 101}]}},
            "cancellationPolicy.tiers[0].refundPercent",
        ),
        ({"cancellationPolicy": {"tiers": []}}, "cancellationPolicy.tiers"),
        ({"cancellationPolicy": {}}, "cancellationPolicy.tiers"),
        ({"cancellationPolicy": "strict"}, "cancellationPolicy"),
    ],
)
def test_a_bad_service_field_is_named_by_its_path(patch: dict[str, Any], field: str) -> None:
    assert field in _service_problems({**SERVICE, **patch})


def test_a_valid_service_parses_with_the_default_currency_when_none_is_given() -> None:
    service = parse_service({**SERVICE, "depositPercent": 30}, service_id="svc_1", default_currency="EUR", now=NOW)

    assert (service.currency, service.deposit_percent, service.capacity, service.active) == ("EUR", 30, 1, True)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"timezone": ""}, "timezone"),
        ({"currency": "XYZ"}, "currency"),
        ({"email": "not-an-email"}, "email"),
        ({"name": "   "}, "name"),
        ({"branding": {"accentColor": "#12345"}}, "branding.accentColor"),
        ({"branding": {"logoUrl": "http://insecure.test/logo.png"}}, "branding.logoUrl"),
        ({"branding": "blue"}, "branding"),
        ({"slotIntervalMinutes": 0}, "slotIntervalMinutes"),
        ({"minNoticeMinutes": -1}, "minNoticeMinutes"),
        ({"maxAdvanceDays": 0}, "maxAdvanceDays"),
        ({"maxAdvanceDays": 731}, "maxAdvanceDays"),
        ({"taxRateBps": 10_001}, "taxRateBps"),
        ({"taxRateBps": "20"}, "taxRateBps"),
        ({"reminderOffsetsMinutes": [0]}, "reminderOffsetsMinutes"),
        ({"reminderOffsetsMinutes": [1, 2, 3, 4, 5, 6]}, "reminderOffsetsMinutes"),
        ({"defaultCancellationPolicy": {"tiers": []}}, "defaultCancellationPolicy.tiers"),
        ({"slug": "acme-2"}, "slug"),
    ],
)
def test_a_bad_setting_is_named_by_its_path(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        apply_settings(TENANT, patch, NOW)

    assert field in caught.value.details["fields"]


def test_settings_keep_what_the_patch_leaves_out() -> None:
    updated = apply_settings(replace(TENANT, tax_rate_bps=500, min_notice_minutes=30), {"name": "Acme Two"}, NOW)

    assert (updated.name, updated.tax_rate_bps, updated.min_notice_minutes) == ("Acme Two", 500, 30)
    assert updated.reminder_offsets_minutes == TENANT.reminder_offsets_minutes


def _rules_problems(rules: list[Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        parse_rules({"rules": rules})
    return dict(caught.value.details["fields"])


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"dayOfWeek": 0, "start": "09:0", "end": "17:00"}, "rules[0].start"),
        ({"dayOfWeek": 0, "start": "09:00", "end": "5pm"}, "rules[0].end"),
        ({"dayOfWeek": 0, "start": "09:60", "end": "17:00"}, "rules[0].start"),
        ({"dayOfWeek": 0, "start": "09:00", "end": "24:01"}, "rules[0].end"),
        ({"dayOfWeek": 0, "start": "09:00", "end": "09:00"}, "rules[0].end"),
        ({"dayOfWeek": 0, "start": "09:00", "end": "1\uff17:00"}, "rules[0].end"),
        ({"start": "09:00", "end": "17:00"}, "rules[0].dayOfWeek"),
        ({"dayOfWeek": "mon", "start": "09:00", "end": "17:00"}, "rules[0].dayOfWeek"),
        ({"dayOfWeek": 0, "start": 900, "end": "17:00"}, "rules[0].start"),
        ({"dayOfWeek": 0, "start": "09:00", "end": "17:00", "serviceIds": "svc_1"}, "rules[0].serviceIds"),
        ("09:00-17:00", "rules[0]"),
    ],
)
def test_a_bad_rule_is_named_by_its_path(rule: Any, field: str) -> None:
    assert field in _rules_problems([rule])


def test_rules_come_back_in_week_order() -> None:
    rules = parse_rules(
        {
            "rules": [
                {"dayOfWeek": 3, "start": "09:00", "end": "12:00"},
                {"dayOfWeek": 1, "start": "13:00", "end": "24:00"},
                {"dayOfWeek": 1, "start": "08:00", "end": "12:00"},
            ]
        }
    )

    assert [(r.day_of_week, r.start) for r in rules] == [(1, "08:00"), (1, "13:00"), (3, "09:00")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2027/03/14", "intervals": []}, "date"),
        ({"date": "20270314", "intervals": []}, "date"),
        ({"date": "14-03-2027", "intervals": []}, "date"),
        ({"date": "2027-073", "intervals": []}, "date"),
        ({"date": 20270314, "intervals": []}, "date"),
        ({"intervals": []}, "date"),
        ({"date": "2027-03-14", "intervals": [{"start": "1000", "end": "12:00"}]}, "intervals[0].start"),
        ({"date": "2027-03-14", "intervals": [{"start": "10:00"}]}, "intervals[0].end"),
    ],
)
def test_a_bad_override_is_named_by_its_path(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_override(body, override_id="ovr_1", provider_id="prv_1")

    assert field in caught.value.details["fields"]
