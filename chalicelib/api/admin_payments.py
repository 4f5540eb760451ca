"""A tenant admin's payments: the Stripe connected account, refunds, the ledger, the balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import payment_models, registry
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
STRIPE = "/v1/admin/payments/stripe"
APPOINTMENT = "/v1/admin/appointments/{appointment_id}"


@api_route(bp, STRIPE, "PUT", auth="admin", errors=(409, 422, 503))
def connect_stripe_account(caller: Caller, body: payment_models.StripeAccountBody) -> payment_models.StripeAccount:
    """Use an existing Stripe connected account (422 when Stripe does not know it)"""
    return payment_models.StripeAccount.model_validate(
        registry.payments_setup().connect(caller.tenant, body.account_id)
    )


@api_route(bp, STRIPE + "/onboarding", "POST", auth="admin", status=201, errors=(503,))
def start_stripe_onboarding(caller: Caller) -> payment_models.Url:
    """A Stripe onboarding link (creates the connected account once)"""
    return payment_models.Url.of(dict(url=registry.payments_setup().onboarding_url(caller.tenant)))


@api_route(bp, STRIPE, "GET", auth="admin", errors=(503,))
def stripe_account_status(caller: Caller) -> payment_models.StripeAccount:
    """The connected account's status"""
    return payment_models.StripeAccount.model_validate(registry.payments_setup().status(caller.tenant))


@api_route(bp, APPOINTMENT + "/payments", "GET", auth="admin")
def list_payments(caller: Caller, appointment_id: str) -> payment_models.Payments:
    """The appointment's ledger, refunds and totals"""
    view = registry.payments().view(caller.tenant_id, appointment_id)
    totals = payment_models.PaymentTotals.of(view.money, payment_status=view.appointment.payment_status.value)
    return payment_models.Payments.of({"items": view.ledger, "refunds": view.refunds, "totals": totals})


@api_route(bp, APPOINTMENT + "/refunds", "POST", auth="admin", status=201, errors=(422, 503))
def refund(caller: Caller, appointment_id: str, body: payment_models.NewRefund) -> payment_models.Refund:
    """Refund (default: everything still refundable); Stripe is asked asynchronously"""
    reason = body.reason or "refund by the business"
    return payment_models.Refund.of(
        registry.payments().refund(caller.tenant_id, appointment_id, body.amount_cents, reason)
    )


@api_route(bp, APPOINTMENT + "/balance", "POST", auth="admin", errors=(422, 503))
def balance(caller: Caller, appointment_id: str, body: payment_models.BalanceBody) -> payment_models.Balance:
    """What is still owed: a payment link (method=link) or the saved card charged (method=charge)"""
    return payment_models.Balance.model_validate(
        registry.payments().balance(caller.tenant, appointment_id, body.method)
    )
