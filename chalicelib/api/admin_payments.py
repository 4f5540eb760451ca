"""A tenant admin's payments: the Stripe connected account, refunds, the ledger, the balance."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.parsing import FieldErrors, Reader
from chalicelib.api.requests import admin_caller, json_body
from chalicelib.api.routing import api_route
from chalicelib.domain.clock import to_iso
from chalicelib.domain.payments import LedgerEntry, RefundRequest
from chalicelib.services import registry

bp = Blueprint(__name__)


@api_route(bp, "/v1/admin/payments/stripe", "PUT")
def connect_stripe_account() -> dict[str, Any]:
    caller = admin_caller(bp)
    errors = FieldErrors()
    account_id = Reader(json_body(bp), errors).string("accountId", max_length=64)
    errors.raise_if_any()
    assert account_id is not None
    return registry.payments_setup().connect(caller.tenant, account_id)


@api_route(bp, "/v1/admin/payments/stripe/onboarding", "POST", status=201)
def start_stripe_onboarding() -> dict[str, Any]:
    caller = admin_caller(bp)
    return {"url": registry.payments_setup().onboarding_url(caller.tenant)}


@api_route(bp, "/v1/admin/payments/stripe", "GET")
def stripe_account_status() -> dict[str, Any]:
    caller = admin_caller(bp)
    return registry.payments_setup().status(caller.tenant)


def ledger_entry_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "amountCents": entry.amount_cents,
        "currency": entry.currency,
        "at": to_iso(entry.at),
        "stripeId": entry.stripe_id,
        "note": entry.note,
    }


def refund_json(request: RefundRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "amountCents": request.amount_cents,
        "currency": request.currency,
        "status": request.status.value,
        "reason": request.reason,
        "requestedAt": to_iso(request.requested_at),
        "stripeRefundId": request.stripe_refund_id,
        "failure": request.failure,
    }


@api_route(bp, "/v1/admin/appointments/{appointment_id}/payments", "GET")
def list_payments(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    view = registry.payments().view(caller.tenant_id, appointment_id)
    return {
        "items": [ledger_entry_json(e) for e in view.ledger],
        "refunds": [refund_json(r) for r in view.refunds],
        "totals": {
            "paidCents": view.money.paid_cents,
            "refundedCents": view.money.refunded_cents,
            "refundableCents": view.money.refundable_cents,
            "currency": view.money.currency,
            "paymentStatus": view.appointment.payment_status.value,
        },
        "nextCursor": None,
    }


@api_route(bp, "/v1/admin/appointments/{appointment_id}/refunds", "POST", status=201)
def refund(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    errors = FieldErrors()
    reader = Reader(json_body(bp), errors)
    amount = reader.integer("amountCents", required=False, minimum=1, maximum=100_000_000)
    reason = reader.string("reason", required=False, max_length=500) or "refund by the business"
    errors.raise_if_any()
    return refund_json(registry.payments().refund(caller.tenant_id, appointment_id, amount, reason))


@api_route(bp, "/v1/admin/appointments/{appointment_id}/balance", "POST")
def balance(appointment_id: str) -> dict[str, Any]:
    caller = admin_caller(bp)
    errors = FieldErrors()
    method = Reader(json_body(bp), errors).string("method", required=False, max_length=10) or "link"
    if method not in ("link", "charge"):
        errors.add("method", 'must be "link" or "charge"')
    errors.raise_if_any()
    return registry.payments().balance(caller.tenant, appointment_id, method)
