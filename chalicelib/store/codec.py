"""Nested domain values <-> the plain JSON kept in JSONAttributes."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.catalog import (
    AvailabilityRule,
    CancellationPolicy,
    IntakeField,
    IntakeFieldType,
    PolicyTier,
    TimeRange,
)


def policy_to_data(policy: CancellationPolicy | None) -> list[list[int]] | None:
    if policy is None:
        return None
    return [[tier.min_hours_before, tier.refund_percent] for tier in policy.tiers]


def policy_from_data(data: Any) -> CancellationPolicy | None:
    if not data:
        return None
    return CancellationPolicy(tuple(PolicyTier(int(hours), int(percent)) for hours, percent in data))


def intake_to_data(fields: tuple[IntakeField, ...]) -> list[dict[str, Any]]:
    return [
        {"id": f.id, "label": f.label, "type": f.type.value, "required": f.required, "options": list(f.options)}
        for f in fields
    ]


def intake_from_data(data: Any) -> tuple[IntakeField, ...]:
    return tuple(
        IntakeField(f["id"], f["label"], IntakeFieldType(f["type"]), bool(f["required"]), tuple(f.get("options", [])))
        for f in data or []
    )


def rules_to_data(rules: tuple[AvailabilityRule, ...]) -> list[dict[str, Any]]:
    return [
        {
            "d": rule.day_of_week,
            "s": rule.start,
            "e": rule.end,
            "svc": list(rule.service_ids) if rule.service_ids is not None else None,
        }
        for rule in rules
    ]


def rules_from_data(data: Any) -> tuple[AvailabilityRule, ...]:
    return tuple(
        AvailabilityRule(int(r["d"]), r["s"], r["e"], tuple(r["svc"]) if r.get("svc") is not None else None)
        for r in data or []
    )


def ranges_to_data(ranges: tuple[TimeRange, ...]) -> list[list[str]]:
    return [[r.start, r.end] for r in ranges]


def ranges_from_data(data: Any) -> tuple[TimeRange, ...]:
    return tuple(TimeRange(start, end) for start, end in data or [])
