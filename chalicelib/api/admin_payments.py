"""A tenant admin's payments: the Stripe connected account, refunds, the ledger, the balance."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.payment_models import (
    Balance,
    BalanceBody,
    NewRefund,
    Payments,
    PaymentTotals,
    Refund,
    StripeAccount,
    StripeAccountBody,
    Url,
)
from chalicelib.api.routing import api_route
from chalicelib.services import registry
from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
STRIPE = "/v1/admin/payments/stripe"
APPOINTMENT = "/v1/admin/appointments/{appointment_id}"


@api_route(bp, STRIPE, "PUT", auth="admin", body=StripeAccountBody, response=StripeAccount, errors=(409, 422, 503))
def connect_stripe_account(caller: Caller, body: StripeAccountBody) -> StripeAccount:
    """Use an existing Stripe connected account (422 when Stripe does not know it)"""
    return StripeAccount.model_validate(registry.payments_setup().connect(caller.tenant, body.account_id))


@api_route(bp, STRIPE + "/onboarding", "POST", auth="admin", status=201, response=Url, errors=(503,))
def start_stripe_onboarding(caller: Caller) -> Url:
    """A Stripe onboarding link (creates the connected account once)"""
    return Url.of(dict(url=registry.payments_setup().onboarding_url(caller.tenant)))


@api_route(bp, STRIPE, "GET", auth="admin", response=StripeAccount, errors=(503,))
def stripe_account_status(caller: Caller) -> StripeAccount:
    """The connected account's status"""
    return StripeAccount.model_validate(registry.payments_setup().status(caller.tenant))


@api_route(bp, APPOINTMENT + "/payments", "GET", auth="admin", response=Payments)
def list_payments(caller: Caller, appointment_id: str) -> Payments:
    """The appointment's ledger, refunds and totals"""
    view = registry.payments().view(caller.tenant_id, appointment_id)
    totals = PaymentTotals.of(view.money, payment_status=view.appointment.payment_status.value)
    return Payments.of({"items": view.ledger, "refunds": view.refunds, "totals": totals})


@api_route(
    bp, APPOINTMENT + "/refunds", "POST", auth="admin", status=201, body=NewRefund, response=Refund, errors=(422, 503)
)
def refund(caller: Caller, appointment_id: str, body: NewRefund) -> Refund:
    """Refund (default: everything still refundable); Stripe is asked asynchronously"""
    reason = body.reason or "refund by the business"
    return Refund.of(registry.payments().refund(caller.tenant_id, appointment_id, body.amount_cents, reason))


@api_route(bp, APPOINTMENT + "/balance", "POST", auth="admin", body=BalanceBody, response=Balance, errors=(422, 503))
def balance(caller: Caller, appointment_id: str, body: BalanceBody) -> Balance:
    """What is still owed: a payment link (method=link) or the saved card charged (method=charge)"""
    return Balance.model_validate(registry.payments().balance(caller.tenant, appointment_id, body.method))
