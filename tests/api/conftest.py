"""Chalice test client over the emulator, plus helpers that open tenants and build catalogs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from tests.conftest import PLATFORM_KEY, PROJECT_DIR


@dataclass
class Api:
    """Thin JSON wrapper over Chalice's test client."""

    client: Client
    stripe: Any = None  # the session's FakeStripe

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        public_key: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if public_key:
            headers["X-Tenant-Key"] = public_key
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = getattr(self.client.http, method.lower())(path, headers=headers, body=payload)
        text = response.body.decode() if response.body else ""
        return response.status_code, (json.loads(text) if text else None)

    def connect_payments(self, secret_key: str, email: str) -> str:
        """Give the tenant an onboarded Stripe connected account on the fake; returns its id."""
        from chalicelib.services import registry

        account = registry.payment_gateway().create_account(email, idempotency_key=f"test-account-{email}")
        assert self.stripe is not None
        self.stripe.complete_onboarding(account)
        status, body = self.call("PUT", "/v1/admin/payments/stripe", {"accountId": account}, key=secret_key)
        assert status == 200, body
        return account

    def open_tenant(
        self, slug: str = "acme", timezone: str = "America/New_York", payments: bool = True
    ) -> dict[str, Any]:
        """A new tenant; with `payments`, also an onboarded Stripe account (most businesses take money)."""
        status, body = self.call(
            "POST",
            "/v1/platform/tenants",
            {
                "name": slug.title(),
                "slug": slug,
                "timezone": timezone,
                "currency": "USD",
                "email": f"owner@{slug}.test",
            },
            key=PLATFORM_KEY,
        )
        assert status == 201, body
        if payments and self.stripe is not None:
            body["stripeAccountId"] = self.connect_payments(body["secretKey"], f"owner@{slug}.test")
        return dict(body)

    def create_service(self, key: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "Consultation", "durationMinutes": 60, "priceCents": 5000, **fields}
        status, created = self.call("POST", "/v1/admin/services", body, key=key)
        assert status == 201, created
        return dict(created)

    def create_provider(self, key: str, service_ids: list[str], **fields: Any) -> dict[str, Any]:
        body = {"name": "Dana", "email": "dana@acme.test", "serviceIds": service_ids, **fields}
        status, created = self.call("POST", "/v1/admin/providers", body, key=key)
        assert status == 201, created
        return dict(created)


@pytest.fixture
def api(aws: str, stripe_fake: Any) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        yield Api(client, stripe_fake)


@pytest.fixture
def tenant(api: Api) -> dict[str, Any]:
    return api.open_tenant("acme")


@pytest.fixture
def other_tenant(api: Api) -> dict[str, Any]:
    return api.open_tenant("globex")


@pytest.fixture
def mail() -> InMemoryMailGateway:
    """Every mail the app sends in this test, kept in memory instead of going to SES."""
    gateway = InMemoryMailGateway()
    registry.use("mail_gateway", gateway)
    return gateway
