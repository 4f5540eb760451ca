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
from chalicelib.domain.tenant import Address, InvoiceSettings


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


def invoicing_to_data(settings: InvoiceSettings) -> dict[str, Any]:
    return {
        "legalName": settings.legal_name,
        "address": address_to_data(settings.address),
        "taxId": settings.tax_id,
        "invoicePrefix": settings.invoice_prefix,
        "creditNotePrefix": settings.credit_note_prefix,
        "pricesIncludeTax": settings.prices_include_tax,
        "paperSize": settings.paper_size,
    }


def invoicing_from_data(data: Any) -> dict[str, Any]:
    """The tenant's invoice fields; tenants stored before invoices existed read with the defaults."""
    data = data or {}
    defaults = InvoiceSettings()
    return dict(
        legal_name=str(data.get("legalName") or ""),
        address=address_from_data(data.get("address")),
        tax_id=str(data.get("taxId") or ""),
        invoice_prefix=str(data.get("invoicePrefix") or defaults.invoice_prefix),
        credit_note_prefix=str(data.get("creditNotePrefix") or defaults.credit_note_prefix),
        prices_include_tax=bool(data.get("pricesIncludeTax", defaults.prices_include_tax)),
        paper_size=str(data.get("paperSize") or defaults.paper_size),
    )


def address_to_data(address: Address) -> dict[str, str]:
    return {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postalCode": address.postal_code,
        "region": address.region,
        "country": address.country,
    }


def address_from_data(data: Any) -> Address:
    data = data or {}
    return Address(
        line1=str(data.get("line1") or ""),
        line2=str(data.get("line2") or ""),
        city=str(data.get("city") or ""),
        postal_code=str(data.get("postalCode") or ""),
        region=str(data.get("region") or ""),
        country=str(data.get("country") or ""),
    )
