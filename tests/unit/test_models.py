"""The request models: JSON objects only, every problem reported under its JSON path, in one answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib.api.appointment_models import AvailabilityQuery, NewBooking
from chalicelib.api.catalog_models import NewOverride, NewProvider, NewService, WeeklyRules
from chalicelib.api.model_types import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    Body,
    parse_json_object,
    partial,
    patched,
    validated,
)
from chalicelib.api.requests import decode_cursor, encode_cursor
from chalicelib.api.tenant_models import NewTenantBody, TenantBody, TenantSettings
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenant import Tenant

NOW = datetime(2027, 1, 4, tzinfo=UTC)
BOOKING = {
    "serviceId": "svc_1",
    "start": "2027-03-14T14:00:00Z",
    "client": {"name": "Ada", "email": "ada@example.com", "timezone": "UTC"},
}


def _fields(model: type[BaseModel], data: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validated(model, data)
    return dict(caught.value.details["fields"])


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
        (b'{"a": ' + b"[" * 20 + b"]" * 20 + b"}", {"body": f"deeper than {MAX_JSON_DEPTH} levels"}),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_validation_error(raw: bytes, details: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(raw)

    assert caught.value.details == details


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_beyond_what_python_parses_is_a_validation_error(depth: int) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(b'{"intake": ' + b"[" * depth + b"]" * depth + b"}")

    assert set(caught.value.details) == {"body"}


def test_an_oversized_body_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_object(b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}')

    assert caught.value.details == {"limitBytes": MAX_BODY_BYTES}


# --- scalar fields ---------------------------------------------------------------------------


def test_strings_are_trimmed() -> None:
    assert validated(NewProvider, {"name": "  Dana  ", "email": "d@acme.test"}).name == "Dana"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "Input should be a valid string"),
        (5, "Input should be a valid string"),
        ("   ", "String should have at least 1 character"),
        ("x" * 121, "String should have at most 120 characters"),
        ("Ada\x00", "must not contain control characters or lone surrogates"),
        ("Ada\r\nBcc: x", "must not contain control characters or lone surrogates"),
        ("\ud800", "Input should be a valid string, unable to parse raw data as a unicode string"),
    ],
)
def test_a_bad_name_is_recorded_under_its_path(value: Any, problem: str) -> None:
    assert _fields(NewProvider, {"name": value, "email": "d@acme.test"}) == {"name": problem}


def test_a_missing_field_is_required_and_an_unknown_one_is_named() -> None:
    assert _fields(NewProvider, {"email": "d@acme.test", "nmae": "Dana"}) == {
        "name": "is required",
        "nmae": "is not a known field",
    }


def test_an_optional_missing_field_takes_its_default() -> None:
    service = validated(NewService, {"name": "Cut", "durationMinutes": 30})

    assert (service.capacity, service.description, service.buffer_before_minutes) == (1, "", 0)


@pytest.mark.parametrize("value", [True, 1.5, "3", 0, 1001])
def test_a_bad_integer_is_recorded(value: Any) -> None:
    assert set(_fields(NewService, {"name": "Cut", "durationMinutes": 30, "capacity": value})) == {"capacity"}


@pytest.mark.parametrize("value", ["true", 0, None])
def test_a_boolean_must_be_a_json_boolean(value: Any) -> None:
    assert set(_fields(NewProvider, {"name": "D", "email": "d@acme.test", "active": value})) == {"active"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("currency", "usd"), ("currency", "ABC"), ("email", "nobody"), ("slug", "A b")],
)
def test_checked_values_record_a_problem(field: str, value: str) -> None:
    body = {"name": "Acme", "slug": "acme", "timezone": "UTC", "currency": "USD", "email": "a@acme.test"}

    assert set(_fields(NewTenantBody, {**body, field: value})) == {field}


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2027-03-14T14:00:00", "soon", 5])
def test_a_booking_start_must_be_an_instant_with_an_offset_in_range(start: Any) -> None:
    assert set(_fields(NewBooking, {**BOOKING, "start": start})) == {"start"}


def test_a_booking_start_with_an_offset_is_normalised_to_utc() -> None:
    booking = validated(NewBooking, {**BOOKING, "start": "2027-03-14T10:00:00-04:00"})

    assert booking.to_domain().start == datetime(2027, 3, 14, 14, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")])
def test_availability_dates_out_of_range_are_refused(start: str, end: str) -> None:
    assert set(_fields(AvailabilityQuery, {"start": start, "end": end, "timezone": "UTC"})) == {"start", "end"}


def test_availability_end_must_not_precede_start_nor_be_more_than_62_days_later() -> None:
    query = {"start": "2027-03-14", "timezone": "UTC"}

    assert set(_fields(AvailabilityQuery, {**query, "end": "2027-03-13"})) == {"end"}
    assert set(_fields(AvailabilityQuery, {**query, "end": "2027-05-15"})) == {"end"}
    assert validated(AvailabilityQuery, {**query, "end": "2027-05-14"}).end.isoformat() == "2027-05-14"


# --- nested paths ----------------------------------------------------------------------------


def test_a_nested_field_is_reported_at_its_json_path() -> None:
    body = {"name": "Cut", "durationMinutes": 30, "cancellationPolicy": {"tiers": [{}, "x"]}}

    assert _fields(NewService, body) == {
        "cancellationPolicy.tiers[0].minHoursBefore": "is required",
        "cancellationPolicy.tiers[0].refundPercent": "is required",
        "cancellationPolicy.tiers[1]": "must be an object",
    }


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

    assert set(_fields(NewService, body)) == {
        "name",
        "durationMinutes",
        "currency",
        "intakeFields[1].options",
        "intakeFields[2].id",
        "intakeFields[2].type",
        "cancellationPolicy.tiers[0].refundPercent",
    }


def test_an_intake_field_id_that_is_not_a_string_is_reported_not_a_crash() -> None:
    fields = [{"id": {}, "label": "A", "type": "date"}, {"id": ["x"], "label": "B", "type": "date"}]

    assert set(_fields(partial(NewService), {"intakeFields": fields})) == {"intakeFields[0].id", "intakeFields[1].id"}


def test_cross_field_rules_name_their_field() -> None:
    body = {"name": "Cut", "durationMinutes": 1440, "bufferAfterMinutes": 60, "priceCents": 100, "depositCents": 200}

    assert set(_fields(NewService, body)) == {"durationMinutes", "depositCents"}


# --- PATCH -----------------------------------------------------------------------------------


def test_a_patch_body_checks_each_given_field_and_ignores_read_only_ones() -> None:
    patch_model = partial(NewService)

    assert set(_fields(patch_model, {"durationMinutes": 7, "capacity": "2"})) == {"durationMinutes", "capacity"}
    accepted = validated(patch_model, {"id": "svc_other", "version": 9, "name": "Cut"})
    assert accepted.model_dump(exclude_unset=True) == {"name": "Cut"}


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
    return _fields(NewService, body)


def _settings(tenant: Tenant, patch: dict[str, Any]) -> Tenant:
    body: Body = validated(partial(TenantSettings), patch)
    return patched(TenantSettings, TenantBody.of(tenant), body).apply_to(tenant, NOW)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"durationMinutes": "30"}, "durationMinutes"),
        ({"durationMinutes": 30.5}, "durationMinutes"),
        ({"durationMinutes": None}, "durationMinutes"),
        ({"durationMinutes": 42}, "durationMinutes"),
        ({"durationMinutes": 1445}, "durationMinutes"),
        ({"slotIntervalMinutes": 7}, "slotIntervalMinutes"),
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
    service = validated(NewService, {**SERVICE, "depositPercent": 30}).to_domain("svc_1", "EUR", NOW)

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
        ({"reminderOffsetsMinutes": [0]}, "reminderOffsetsMinutes[0]"),
        ({"reminderOffsetsMinutes": [1, 2, 3, 4, 5, 6]}, "reminderOffsetsMinutes"),
        ({"defaultCancellationPolicy": {"tiers": []}}, "defaultCancellationPolicy.tiers"),
        ({"slug": "acme-2"}, "slug"),
    ],
)
def test_a_bad_setting_is_named_by_its_path(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(TENANT, patch)

    assert field in caught.value.details["fields"]


def test_settings_keep_what_the_patch_leaves_out() -> None:
    updated = _settings(replace(TENANT, tax_rate_bps=500, min_notice_minutes=30), {"name": "Acme Two"})

    assert (updated.name, updated.tax_rate_bps, updated.min_notice_minutes) == ("Acme Two", 500, 30)
    assert updated.reminder_offsets_minutes == TENANT.reminder_offsets_minutes


def _rules_problems(rules: list[Any]) -> dict[str, str]:
    return _fields(WeeklyRules, {"rules": rules})


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
    rules = validated(
        WeeklyRules,
        {
            "rules": [
                {"dayOfWeek": 3, "start": "09:00", "end": "12:00"},
                {"dayOfWeek": 1, "start": "13:00", "end": "24:00"},
                {"dayOfWeek": 1, "start": "08:00", "end": "12:00"},
            ]
        },
    ).sorted_domain()

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
    assert field in _fields(NewOverride, body)
