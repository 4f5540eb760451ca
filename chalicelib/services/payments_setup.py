"""A tenant's Stripe connected account: link an existing one, or onboard a new one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib import config
from chalicelib.domain.errors import RuleViolationError, ValidationError
from chalicelib.domain.tenant import Tenant
from chalicelib.gateways.payments import PaymentError, PaymentGateway
from chalicelib.store.payments import PaymentRepository
from chalicelib.store.tenants import TenantRepository


class PaymentsSetup:
    def __init__(
        self, tenants: TenantRepository, payments: PaymentRepository, gateway: Callable[[], PaymentGateway]
    ) -> None:
        self._tenants = tenants
        self._payments = payments
        self._gateway = gateway

    def connect(self, tenant: Tenant, account_id: str) -> dict[str, Any]:
        """Use an existing connected account (checked with Stripe and claimed for this tenant only)."""
        if not account_id.startswith("acct_") or len(account_id) > 64:
            raise ValidationError(
                "accountId must be a Stripe account id (acct_...).", {"fields": {"accountId": "malformed"}}
            )
        try:
            status = self._gateway().account_status(account_id)
        except PaymentError as exc:
            raise RuleViolationError(
                "Stripe does not know that account.", {"fields": {"accountId": "unknown"}}
            ) from exc
        self._payments.register_account(account_id, tenant.id)
        self._tenants.save(replace(tenant, stripe_account_id=account_id))
        return {"accountId": account_id, **status}

    def onboarding_url(self, tenant: Tenant) -> str:
        """Create the tenant's account on first use (idempotently) and return a fresh onboarding link."""
        account_id = tenant.stripe_account_id
        if account_id is None:
            account_id = self._gateway().create_account(tenant.email, idempotency_key=f"account-{tenant.id}")
            self._payments.register_account(account_id, tenant.id)
            self._tenants.save(replace(tenant, stripe_account_id=account_id))
        base = config.public_base_url()
        return self._gateway().onboarding_link(
            account_id, refresh_url=f"{base}/payments/refresh", return_url=f"{base}/payments/done"
        )

    def status(self, tenant: Tenant) -> dict[str, Any]:
        if tenant.stripe_account_id is None:
            return {
                "accountId": None,
                "chargesEnabled": False,
                "detailsSubmitted": False,
                "payoutsEnabled": False,
                "platformFeeBps": config.platform_fee_bps(),
            }
        return {
            "accountId": tenant.stripe_account_id,
            **self._gateway().account_status(tenant.stripe_account_id),
            "platformFeeBps": config.platform_fee_bps(),
        }
