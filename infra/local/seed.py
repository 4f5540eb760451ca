"""The demo tenant the local stack opens: a service, a provider and weekday hours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.api.catalog_schema import parse_provider, parse_rules, parse_service, service_json
from chalicelib.api.tenant_schema import tenant_json
from chalicelib.domain.catalog import WeeklyAvailability
from chalicelib.domain.tenant import NewTenant
from chalicelib.services import registry

WEEKDAY_HOURS = {"rules": [{"dayOfWeek": day, "start": "09:00", "end": "17:00"} for day in range(5)]}


@dataclass(frozen=True)
class DemoTenant:
    tenant: dict[str, Any]
    publishable_key: str
    secret_key: str
    service: dict[str, Any]
    provider_id: str


def seed_demo_tenant(slug: str = "demo") -> DemoTenant:
    """Open the demo tenant through the same services the API uses."""
    opened = registry.tenant_service().open_tenant(
        NewTenant(name="Demo Studio", slug=slug, timezone="America/New_York", currency="USD", email="owner@demo.test")
    )
    catalog = registry.catalog_service()
    now = registry.clock()
    service = catalog.create_service(
        opened.tenant,
        parse_service(
            {
                "name": "Consultation",
                "description": "A one-hour consultation.",
                "durationMinutes": 60,
                "bufferAfterMinutes": 15,
                "priceCents": 5000,
            },
            service_id=catalog.new_service_id(),
            default_currency="",
            now=now,
        ),
    )
    provider = catalog.create_provider(
        opened.tenant.id,
        parse_provider(
            {"name": "Dana Demo", "email": "dana@demo.test", "serviceIds": [service.id]},
            provider_id=catalog.new_provider_id(),
            now=now,
        ),
    )
    catalog.replace_rules(opened.tenant.id, WeeklyAvailability(provider.id, parse_rules(WEEKDAY_HOURS)))
    return DemoTenant(
        tenant_json(opened.tenant), opened.publishable_key, opened.secret_key, service_json(service), provider.id
    )


def unique_demo_slug() -> str:
    """Against real AWS the slug `demo` may be taken already."""
    return f"demo-{secrets.token_hex(3)}"
