"""The demo tenant the local stack opens: a service, a provider and weekday hours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.api.catalog_models import NewProvider, NewService, Service, WeeklyRules
from chalicelib.api.tenant_models import TenantBody
from chalicelib.domain.catalog import WeeklyAvailability
from chalicelib.domain.tenant import Address, NewTenant
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
    # a seller on its invoices, so POST /v1/admin/appointments/{id}/invoice works out of the box
    tenant = registry.tenant_service().save_settings(
        replace(
            opened.tenant,
            legal_name="Demo Studio LLC",
            address=Address("1 Demo Street", "", "New York", "10001", "NY", "US"),
            tax_id="US-00-0000000",
        )
    )
    opened = replace(opened, tenant=tenant)
    catalog = registry.catalog_service()
    now = registry.clock()
    service = catalog.create_service(
        opened.tenant,
        NewService.model_validate(
            {
                "name": "Consultation",
                "description": "A one-hour consultation.",
                "durationMinutes": 60,
                "bufferAfterMinutes": 15,
                "priceCents": 5000,
            }
        ).to_domain(catalog.new_service_id(), opened.tenant.currency, now),
    )
    provider = catalog.create_provider(
        opened.tenant.id,
        NewProvider.model_validate(
            {"name": "Dana Demo", "email": "dana@demo.test", "serviceIds": [service.id]}
        ).to_domain(catalog.new_provider_id(), now),
    )
    catalog.replace_rules(
        opened.tenant.id, WeeklyAvailability(provider.id, WeeklyRules.model_validate(WEEKDAY_HOURS).sorted_domain())
    )
    return DemoTenant(
        TenantBody.of(opened.tenant).json_body(),
        opened.publishable_key,
        opened.secret_key,
        Service.of(service).json_body(),
        provider.id,
    )


def unique_demo_slug() -> str:
    """Against real AWS the slug `demo` may be taken already."""
    return f"demo-{secrets.token_hex(3)}"
