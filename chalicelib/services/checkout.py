"""Stripe Checkout for what is due: at booking (full or deposit) and for a later balance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.errors import PaymentsNotConfiguredError, UpstreamUnavailableError
from chalicelib.domain.payments import Money, application_fee
from chalicelib.domain.tenant import Tenant
from chalicelib.gateways.payments import CheckoutRequest, PaymentError, PaymentGateway, PaymentUnavailableError
from chalicelib.services.page_links import checkout_return_url
from chalicelib.store.payments import PaymentRepository

BALANCE_LINK_LIFETIME = timedelta(hours=23)


def require_payments(tenant: Tenant) -> str:
    if not tenant.stripe_account_id:
        raise PaymentsNotConfiguredError("This business does not take online payments yet.")
    return tenant.stripe_account_id


class CheckoutService:
    def __init__(
        self, gateway: Callable[[], PaymentGateway], payments: PaymentRepository, clock: Callable[[], datetime]
    ) -> None:
        self._gateway = gateway  # built on first use: a free booking never needs Stripe
        self._payments = payments
        self._clock = clock

    def require_gateway(self) -> None:
        """Raise PaymentsUnavailableError (503) before a hold is taken that nobody could pay."""
        self._gateway()

    def for_booking(self, tenant: Tenant, appointment: Appointment) -> str:
        """The Checkout page for a pending hold; it expires with the hold. Retries get the same session."""
        assert appointment.hold_until is not None
        amount = appointment.amount_due_now_cents
        label = appointment.service_name + (" (deposit)" if amount < appointment.price_cents else "")
        return self._start(
            tenant,
            appointment,
            amount,
            label,
            "booking",
            appointment.hold_until,
            save_card=amount < appointment.price_cents,
            key=f"checkout-{appointment.id}-v{appointment.version}",
        )

    def for_balance(self, tenant: Tenant, appointment: Appointment, money: Money) -> str:
        owed = appointment.price_cents - money.paid_cents
        return self._start(
            tenant,
            appointment,
            owed,
            f"{appointment.service_name} (balance)",
            "balance",
            self._clock() + BALANCE_LINK_LIFETIME,
            save_card=False,
            key=f"balance-{appointment.id}-{money.paid_cents}",
        )

    def _start(
        self,
        tenant: Tenant,
        appointment: Appointment,
        amount: int,
        label: str,
        purpose: str,
        expires_at: datetime,
        *,
        save_card: bool,
        key: str,
    ) -> str:
        account = require_payments(tenant)
        base = config.public_base_url()
        request = CheckoutRequest(
            account=account,
            amount_cents=amount,
            currency=appointment.currency,
            product_name=label,
            application_fee_cents=application_fee(amount, config.platform_fee_bps()),
            metadata={"tenantId": tenant.id, "appointmentId": appointment.id, "purpose": purpose},
            success_url=checkout_return_url(base, tenant.id, appointment.id, True, expires_at),
            cancel_url=checkout_return_url(base, tenant.id, appointment.id, False, expires_at),
            expires_at=expires_at,
            customer_email=appointment.client.email,
            save_card=save_card,
            idempotency_key=key,
        )
        try:
            session = self._gateway().create_checkout(request)
        except PaymentUnavailableError as exc:
            raise UpstreamUnavailableError("The payment provider is unavailable; please retry.") from exc
        except PaymentError as exc:
            raise PaymentsNotConfiguredError("Stripe refused to open a checkout for this business.") from exc
        self._payments.set_checkout(tenant.id, appointment.id, appointment.currency, session.id)
        return session.url
