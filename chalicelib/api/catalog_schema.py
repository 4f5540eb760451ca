"""JSON <-> domain for services, providers, weekly rules and overrides (API.md field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.api.parsing import FieldErrors, Reader
from chalicelib.domain.catalog import (
    AvailabilityRule,
    CancellationPolicy,
    DateOverride,
    IntakeField,
    IntakeFieldType,
    PolicyTier,
    Provider,
    Service,
    TimeRange,
)
from chalicelib.domain.clock import to_iso
from chalicelib.domain.locks import MAX_OCCUPIED_MINUTES, QUANTUM_MINUTES
from chalicelib.domain.validation import (
    calendar_date,
    overlapping_pairs,
    policy_problem,
    range_problem,
    rule_overlaps,
)

MAX_DURATION_MINUTES = 24 * 60
MAX_BUFFER_MINUTES = 24 * 60
MAX_CAPACITY = 1000
MAX_PRICE_CENTS = 100_000_000
MAX_INTAKE_FIELDS = 50
MAX_RULES = 100
_READ_ONLY = ("id", "createdAt", "updatedAt", "version")


def merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """PATCH = the current JSON with the client's top-level fields replaced; read-only fields ignored."""
    merged = dict(current)
    merged.update({k: v for k, v in patch.items() if k not in _READ_ONLY})
    return merged


# --- cancellation policy -----------------------------------------------------------------


def read_policy(reader: Reader, name: str) -> CancellationPolicy | None:
    policy = reader.obj(name, required=False)
    if policy is None:
        return None
    tiers_reader = policy.items("tiers", max_items=10)
    if tiers_reader is None:
        return None
    tiers = []
    for tier in tiers_reader:
        hours = tier.integer("minHoursBefore", minimum=0, maximum=24 * 365)
        percent = tier.integer("refundPercent", minimum=0, maximum=100)
        if hours is not None and percent is not None:
            tiers.append(PolicyTier(hours, percent))
    if len(tiers) == len(tiers_reader):
        problem = policy_problem(tiers)
        if problem:
            reader.errors.add(policy.at("tiers"), problem)
            return None
        return CancellationPolicy(tuple(tiers))
    return None


def policy_json(policy: CancellationPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    return {"tiers": [{"minHoursBefore": t.min_hours_before, "refundPercent": t.refund_percent} for t in policy.tiers]}


# --- services ----------------------------------------------------------------------------


def _read_intake_fields(reader: Reader) -> tuple[IntakeField, ...]:
    items = reader.items("intakeFields", required=False, max_items=MAX_INTAKE_FIELDS) or []
    fields: list[IntakeField] = []
    seen: set[str] = set()
    for item in items:
        field_id = item.string("id", max_length=64)
        label = item.string("label", max_length=200)
        type_name = item.string("type", max_length=20)
        required = item.boolean("required", required=False, default=False)
        options = item.strings("options", required=False, max_items=100) or []
        try:
            field_type = IntakeFieldType(type_name) if type_name else None
        except ValueError:
            item.errors.add(item.at("type"), "must be one of " + ", ".join(t.value for t in IntakeFieldType))
            field_type = None
        if field_id is not None and field_id in seen:
            item.errors.add(item.at("id"), "must be unique within the service")
        if field_type is IntakeFieldType.SELECT and not options:
            item.errors.add(item.at("options"), "a select field needs at least one option")
        if field_type is not None and field_type is not IntakeFieldType.SELECT and options:
            item.errors.add(item.at("options"), "only select fields take options")
        if len(set(options)) != len(options):
            item.errors.add(item.at("options"), "options must be unique")
        if field_id and label and field_type:
            seen.add(field_id)
            fields.append(IntakeField(field_id, label, field_type, bool(required), tuple(options)))
    return tuple(fields)


def parse_service(
    body: dict[str, Any],
    *,
    service_id: str,
    default_currency: str,
    now: datetime,
    created_at: datetime | None = None,
    version: int = 0,
) -> Service:
    """A complete, validated service from a JSON object (raises ValidationError listing every field)."""
    errors = FieldErrors()
    r = Reader(body, errors)
    name = r.string("name", max_length=120)
    description = r.string("description", required=False, max_length=2000, default="")
    duration = r.integer("durationMinutes", minimum=1, maximum=MAX_DURATION_MINUTES)
    before = r.integer("bufferBeforeMinutes", required=False, minimum=0, maximum=MAX_BUFFER_MINUTES, default=0)
    after = r.integer("bufferAfterMinutes", required=False, minimum=0, maximum=MAX_BUFFER_MINUTES, default=0)
    interval = r.integer("slotIntervalMinutes", required=False, minimum=1, maximum=MAX_DURATION_MINUTES)
    price = r.integer("priceCents", required=False, minimum=0, maximum=MAX_PRICE_CENTS, default=0)
    currency = r.currency("currency", required=False) or default_currency
    deposit_cents = r.integer("depositCents", required=False, minimum=1, maximum=MAX_PRICE_CENTS)
    deposit_percent = r.integer("depositPercent", required=False, minimum=1, maximum=100)
    capacity = r.integer("capacity", required=False, minimum=1, maximum=MAX_CAPACITY, default=1)
    no_show_fee = r.integer("noShowFeeCents", required=False, minimum=1, maximum=MAX_PRICE_CENTS)
    active = r.boolean("active", required=False, default=True)
    intake = _read_intake_fields(r)
    policy = read_policy(r, "cancellationPolicy")
    for field_name, minutes in (
        ("durationMinutes", duration),
        ("bufferBeforeMinutes", before),
        ("bufferAfterMinutes", after),
        ("slotIntervalMinutes", interval),
    ):
        if minutes is not None and minutes % QUANTUM_MINUTES:
            errors.add(field_name, f"must be a multiple of {QUANTUM_MINUTES} minutes")
    if duration is not None and duration + (before or 0) + (after or 0) > MAX_OCCUPIED_MINUTES:
        errors.add("durationMinutes", f"with its buffers must be at most {MAX_OCCUPIED_MINUTES} minutes")
    if deposit_cents is not None and deposit_percent is not None:
        errors.add("depositCents", "give depositCents or depositPercent, not both")
    if deposit_cents is not None and price is not None and deposit_cents > price:
        errors.add("depositCents", "must not exceed priceCents")
    errors.raise_if_any()
    assert name is not None and duration is not None and price is not None and capacity is not None
    return Service(
        id=service_id,
        name=name,
        description=description or "",
        duration_minutes=duration,
        buffer_before_minutes=before or 0,
        buffer_after_minutes=after or 0,
        slot_interval_minutes=interval,
        price_cents=price,
        currency=currency,
        deposit_cents=deposit_cents,
        deposit_percent=deposit_percent,
        capacity=capacity,
        no_show_fee_cents=no_show_fee,
        active=bool(active),
        intake_fields=intake,
        cancellation_policy=policy,
        created_at=created_at or now,
        updated_at=now,
        version=version,
    )


def service_json(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "name": service.name,
        "description": service.description,
        "durationMinutes": service.duration_minutes,
        "bufferBeforeMinutes": service.buffer_before_minutes,
        "bufferAfterMinutes": service.buffer_after_minutes,
        "slotIntervalMinutes": service.slot_interval_minutes,
        "priceCents": service.price_cents,
        "currency": service.currency,
        "depositCents": service.deposit_cents,
        "depositPercent": service.deposit_percent,
        "capacity": service.capacity,
        "noShowFeeCents": service.no_show_fee_cents,
        "active": service.active,
        "intakeFields": [
            {"id": f.id, "label": f.label, "type": f.type.value, "required": f.required, "options": list(f.options)}
            for f in service.intake_fields
        ],
        "cancellationPolicy": policy_json(service.cancellation_policy),
        "createdAt": to_iso(service.created_at),
        "updatedAt": to_iso(service.updated_at),
        "version": service.version,
    }


def public_service_json(service: Service, provider_ids: list[str]) -> dict[str, Any]:
    """What a client sees: no internal timestamps or versions."""
    body = service_json(service)
    for key in ("createdAt", "updatedAt", "version", "active"):
        body.pop(key)
    body["providerIds"] = provider_ids
    return body


# --- providers ---------------------------------------------------------------------------


def parse_provider(
    body: dict[str, Any], *, provider_id: str, now: datetime, created_at: datetime | None = None, version: int = 0
) -> Provider:
    errors = FieldErrors()
    r = Reader(body, errors)
    name = r.string("name", max_length=120)
    email = r.email("email")
    timezone = r.timezone("timezone", required=False)
    service_ids = r.strings("serviceIds", required=False, max_items=200, max_length=64) or []
    active = r.boolean("active", required=False, default=True)
    if len(set(service_ids)) != len(service_ids):
        errors.add("serviceIds", "must not repeat an id")
    errors.raise_if_any()
    assert name is not None and email is not None
    return Provider(
        id=provider_id,
        name=name,
        email=email,
        timezone=timezone,
        service_ids=tuple(service_ids),
        active=bool(active),
        created_at=created_at or now,
        updated_at=now,
        version=version,
    )


def provider_json(provider: Provider) -> dict[str, Any]:
    return {
        "id": provider.id,
        "name": provider.name,
        "email": provider.email,
        "timezone": provider.timezone,
        "serviceIds": list(provider.service_ids),
        "active": provider.active,
        "createdAt": to_iso(provider.created_at),
        "updatedAt": to_iso(provider.updated_at),
        "version": provider.version,
    }


# --- weekly rules and overrides ------------------------------------------------------------


def _read_range(item: Reader) -> TimeRange | None:
    start = item.time_of_day("start")
    end = item.time_of_day("end", allow_24=True)
    if start is None or end is None:
        return None
    time_range = TimeRange(start, end)
    problem = range_problem(time_range)
    if problem:
        item.errors.add(item.at("end"), problem)
        return None
    for field_name, wall in (("start", start), ("end", end)):
        if int(wall[3:]) % QUANTUM_MINUTES:
            item.errors.add(item.at(field_name), f"must be on a {QUANTUM_MINUTES}-minute boundary")
            return None
    return time_range


def parse_rules(body: dict[str, Any]) -> tuple[AvailabilityRule, ...]:
    errors = FieldErrors()
    r = Reader(body, errors)
    items = r.items("rules", max_items=MAX_RULES)
    rules: list[AvailabilityRule] = []
    for item in items or []:
        day = item.integer("dayOfWeek", minimum=0, maximum=6)
        time_range = _read_range(item)
        service_ids = item.strings("serviceIds", required=False, max_items=200, max_length=64)
        if service_ids == []:
            item.errors.add(item.at("serviceIds"), "must name at least one service (null means every service)")
        if day is not None and time_range is not None:
            ids = tuple(service_ids) if service_ids is not None else None
            rules.append(AvailabilityRule(day, time_range.start, time_range.end, ids))
    errors.raise_if_any()
    for i, j in rule_overlaps(rules):
        errors.add(f"rules[{j}]", f"overlaps rules[{i}] on the same day")
    errors.raise_if_any()
    return tuple(sorted(rules, key=lambda rule: (rule.day_of_week, rule.start)))


def rules_json(rules: tuple[AvailabilityRule, ...]) -> dict[str, Any]:
    return {
        "rules": [
            {
                "dayOfWeek": rule.day_of_week,
                "start": rule.start,
                "end": rule.end,
                "serviceIds": list(rule.service_ids) if rule.service_ids is not None else None,
            }
            for rule in rules
        ]
    }


def parse_override(body: dict[str, Any], *, override_id: str, provider_id: str) -> DateOverride:
    errors = FieldErrors()
    r = Reader(body, errors)
    date_text = r.string("date", max_length=10)
    day = calendar_date(date_text) if date_text is not None else None
    if date_text is not None and day is None:
        errors.add("date", "must be YYYY-MM-DD")
    ranges: list[TimeRange] = []
    for item in r.items("intervals", max_items=48) or []:
        time_range = _read_range(item)
        if time_range is not None:
            ranges.append(time_range)
    errors.raise_if_any()
    for i, j in overlapping_pairs(ranges):
        errors.add(f"intervals[{j}]", f"overlaps intervals[{i}]")
    errors.raise_if_any()
    assert day is not None
    return DateOverride(
        id=override_id, provider_id=provider_id, date=day, intervals=tuple(sorted(ranges, key=lambda t: t.start))
    )


def override_json(override: DateOverride) -> dict[str, Any]:
    return {
        "id": override.id,
        "providerId": override.provider_id,
        "date": override.date.isoformat(),
        "intervals": [{"start": t.start, "end": t.end} for t in override.intervals],
    }
