"""Money: what is due, what a cancellation refunds, and the payment status a ledger implies.

All amounts are integer minor units. A refund is never more than what was paid minus what
was already refunded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.appointments import Appointment, PaymentStatus
from chalicelib.domain.catalog import CancellationPolicy, Prepayment, Service
from chalicelib.domain.errors import PaymentRequiredError, RuleViolationError

SECONDS_PER_HOUR = 3600


class LedgerKind(enum.Enum):
    CHARGE = "charge"
    REFUND = "refund"
    APPLICATION_FEE = "application_fee"
    FAILURE = "failure"


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    appointment_id: str
    kind: LedgerKind
    amount_cents: int
    currency: str
    at: datetime
    stripe_id: str | None = None  # payment intent, refund or charge id
    note: str = ""


def amount_due_now(service: Service, payment: str | None) -> int:
    """What must be paid before the booking is confirmed. The client may choose to pay more than
    the service's `prepayment` requires, never less; no choice (None) pays what it requires."""
    required = service.prepayment
    chosen = Prepayment(payment) if payment is not None else required
    if chosen.rank < required.rank:
        raise PaymentRequiredError(
            "This service must be paid in full when booking."
            if required is Prepayment.FULL
            else "This service requires a deposit when booking.",
            {"fields": {"payment": f"must be {required.value} or more"}, "prepayment": required.value},
        )
    if chosen is Prepayment.FULL:
        return service.price_cents
    if chosen is Prepayment.DEPOSIT:
        deposit = service.deposit_amount
        if deposit is None:
            raise RuleViolationError("This service takes no deposit.", {"fields": {"payment": "no deposit"}})
        return deposit
    return 0


def refund_percent(policy: CancellationPolicy | None, start: datetime, cancelled_at: datetime) -> int:
    """The tier that applies at the moment of cancellation: the first (largest) `minHoursBefore`
    the notice reaches. Exactly 24 h 00 min before counts as 24 h. No policy refunds in full."""
    if policy is None:
        return 100
    notice_seconds = (start - cancelled_at).total_seconds()
    for tier in sorted(policy.tiers, key=lambda t: t.min_hours_before, reverse=True):
        if notice_seconds >= tier.min_hours_before * SECONDS_PER_HOUR:
            return tier.refund_percent
    return 0


def refundable(paid_cents: int, refunded_cents: int) -> int:
    return max(0, paid_cents - refunded_cents)


def policy_refund(paid_cents: int, refunded_cents: int, percent: int) -> int:
    """`percent` of what was paid (rounded down), less what was already refunded, never below zero."""
    due = paid_cents * percent // 100
    return max(0, min(due - refunded_cents, refundable(paid_cents, refunded_cents)))


def totals(entries: Iterable[LedgerEntry]) -> tuple[int, int]:
    """(paid, refunded) from the ledger."""
    paid = refunded = 0
    for entry in entries:
        if entry.kind is LedgerKind.CHARGE:
            paid += entry.amount_cents
        elif entry.kind is LedgerKind.REFUND:
            refunded += entry.amount_cents
    return paid, refunded


def payment_status(price_cents: int, paid_cents: int, refunded_cents: int) -> PaymentStatus:
    if paid_cents <= 0:
        return PaymentStatus.NONE
    if refunded_cents >= paid_cents:
        return PaymentStatus.REFUNDED
    if refunded_cents > 0:
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.PAID if paid_cents >= price_cents else PaymentStatus.DEPOSIT_PAID


def application_fee(amount_cents: int, fee_bps: int) -> int:
    """The platform's cut of a charge, in basis points, rounded down."""
    return amount_cents * fee_bps // 10_000


@dataclass(frozen=True)
class Money:
    """An appointment's running totals and the Stripe objects that paid for it."""

    currency: str
    paid_cents: int = 0
    refunded_cents: int = 0
    refundable_cents: int = 0  # paid - refunded - refunds in flight
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None


class RefundStatus(enum.Enum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class RefundRequest:
    id: str
    tenant_id: str
    appointment_id: str
    amount_cents: int
    currency: str
    payment_intent_id: str
    reason: str
    requested_at: datetime
    status: RefundStatus = RefundStatus.REQUESTED
    stripe_refund_id: str | None = None
    failure: str | None = None


def with_money(appointment: Appointment, money: Money | None) -> Appointment:
    """The appointment with its amounts and payment status derived from its ledger totals."""
    paid = money.paid_cents if money else 0
    refunded = money.refunded_cents if money else 0
    return replace(
        appointment,
        amount_paid_cents=paid,
        amount_refunded_cents=refunded,
        payment_status=payment_status(appointment.price_cents, paid, refunded),
    )
