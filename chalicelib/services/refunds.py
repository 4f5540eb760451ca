"""Refunds: how much a cancellation returns, the request written first, and the worker that
asks Stripe (with the request id as idempotency key) and settles the request.

The amount is reserved when the request is written (`refundable >= amount`), so concurrent
refunds can never return more than was paid minus what was refunded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.appointments import Appointment
from chalicelib.domain.catalog import CancellationPolicy
from chalicelib.domain.errors import NotFoundError, RefundTooLargeError, RuleViolationError, UpstreamUnavailableError
from chalicelib.domain.ids import new_id
from chalicelib.domain.payments import RefundRequest, RefundStatus, policy_refund, refund_percent
from chalicelib.gateways.payments import PaymentError, PaymentGateway, PaymentUnavailableError
from chalicelib.observability import logger
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.payments import PaymentRepository
from chalicelib.store.tenants import TenantRepository

POLICY, FULL, NONE, AMOUNT = "policy", "full", "none", "amount"


@dataclass(frozen=True)
class RefundChoice:
    """What the canceller asked for: the policy, everything, nothing, or an amount."""

    kind: str  # policy | full | none | amount
    amount_cents: int | None = None


class Refunds:
    def __init__(
        self,
        catalog: CatalogRepository,
        tenants: TenantRepository,
        payments: PaymentRepository,
        gateway: Callable[[], PaymentGateway],
        clock: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self._tenants = tenants
        self._payments = payments
        self._gateway = gateway  # built on first use: most cancellations involve no money
        self._clock = clock

    def policy_for(self, appointment: Appointment) -> CancellationPolicy | None:
        try:
            service_policy = self._catalog.get_service(
                appointment.tenant_id, appointment.service_id
            ).cancellation_policy
        except NotFoundError:
            service_policy = None
        return service_policy or self._tenants.get(appointment.tenant_id).default_cancellation_policy

    def plan(self, appointment: Appointment, choice: RefundChoice, reason: str) -> RefundRequest | None:
        """The refund request a cancellation should write with it (None when nothing is due)."""
        money = self._payments.money(appointment.tenant_id, appointment.id, appointment.currency)
        if choice.kind == NONE:
            return None
        if choice.kind == AMOUNT and (choice.amount_cents or 0) > money.refundable_cents:
            # An amount asked for explicitly is refused, not quietly lowered (nothing paid: nothing fits).
            raise RefundTooLargeError(
                "That is more than what remains to refund.", {"refundableCents": money.refundable_cents}
            )
        if money.paid_cents == 0 or money.payment_intent_id is None:
            return None
        if choice.kind == FULL:
            amount = money.refundable_cents
        elif choice.kind == POLICY:
            percent = refund_percent(self.policy_for(appointment), appointment.start, self._clock())
            amount = min(policy_refund(money.paid_cents, money.refunded_cents, percent), money.refundable_cents)
        else:
            amount = choice.amount_cents or 0
        if amount <= 0:
            return None
        return RefundRequest(
            id=new_id("rr_"),
            tenant_id=appointment.tenant_id,
            appointment_id=appointment.id,
            amount_cents=amount,
            currency=money.currency,
            payment_intent_id=money.payment_intent_id,
            reason=reason,
            requested_at=self._clock(),
        )

    def request(self, appointment: Appointment, amount_cents: int | None, reason: str) -> RefundRequest:
        """An admin refund outside a cancellation (default: everything still refundable)."""
        choice = RefundChoice(AMOUNT, amount_cents) if amount_cents is not None else RefundChoice(FULL)
        planned = self.plan(appointment, choice, reason)
        if planned is None:
            raise RuleViolationError("Nothing remains to refund.", {"refundableCents": 0})
        self._payments.request_refund(planned)
        return planned

    def process(self, tenant_id: str, appointment_id: str, request_id: str, final_attempt: bool) -> str:
        """The worker's job for one message. Raises to have the message retried."""
        request = self._payments.refund_request(tenant_id, appointment_id, request_id)
        if request is None:
            logger.error("refund request not found", extra={"requestId": request_id})
            return "missing"
        if request.status is not RefundStatus.REQUESTED:
            return f"already_{request.status.value}"
        account = self._tenants.get(tenant_id).stripe_account_id
        if account is None:
            self._payments.fail_refund(request, "no Stripe account", self._clock())
            return "failed"
        try:
            refund = self._gateway().refund(
                account,
                request.payment_intent_id,
                request.amount_cents,
                {"tenantId": tenant_id, "appointmentId": appointment_id, "requestId": request.id},
                idempotency_key=request.id,
            )
        except PaymentUnavailableError as exc:
            if final_attempt:
                self._payments.fail_refund(request, f"gave up: {exc}", self._clock())
            raise UpstreamUnavailableError("Stripe unavailable") from exc
        except PaymentError as exc:
            self._payments.fail_refund(request, str(exc), self._clock())
            return "failed"
        if refund.status in ("failed", "canceled"):
            self._payments.fail_refund(request, f"stripe refund {refund.status}", self._clock())
            return "failed"
        self._payments.complete_refund(request, refund.id, self._clock())
        return "succeeded"
