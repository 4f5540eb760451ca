"""Stripe webhooks: verified, applied once per event id, as conditional state transitions.

Duplicates, replays and any delivery order converge: a charge is recorded once (keyed by
its payment intent), a confirmation only happens from a pending or expired hold, and a
payment that arrives for time that is no longer the client's is refunded in full.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.appointments import Appointment
from chalicelib.domain.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.domain.payments import LedgerEntry, LedgerKind, RefundStatus
from chalicelib.gateways.payments import PaymentGateway, WebhookSignatureError
from chalicelib.observability import logger
from chalicelib.services.booking import BookingService
from chalicelib.services.mail_content import MailKind
from chalicelib.services.notifications import Notifier
from chalicelib.services.payments import OFF_SESSION
from chalicelib.services.refunds import FULL, RefundChoice, Refunds
from chalicelib.store.effects import EffectLedger
from chalicelib.store.leases import Claim
from chalicelib.store.payments import PaymentRepository
from chalicelib.store.tenants import TenantRepository


class StripeEvents:
    def __init__(
        self,
        gateway: Callable[[], PaymentGateway],
        payments: PaymentRepository,
        tenants: TenantRepository,
        booking: BookingService,
        refunds: Refunds,
        clock: Callable[[], datetime],
        notifier: Notifier,
        ledger: EffectLedger,
    ) -> None:
        self._notifier = notifier
        self._ledger = ledger
        self._gateway = gateway
        self._payments = payments
        self._tenants = tenants
        self._booking = booking
        self._refunds = refunds
        self._clock = clock

    def receive(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        try:
            event = self._gateway().verify_webhook(payload, signature)
        except WebhookSignatureError as exc:
            raise ValidationError("The webhook signature does not verify.", {"header": "Stripe-Signature"}) from exc
        event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
        obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
        metadata: dict[str, Any] = obj.get("metadata") or {}
        account = event.get("account")
        tenant_id = metadata.get("tenantId") or (self._payments.tenant_for_account(account) if account else None)
        if not tenant_id or not event_id:
            return {"received": True, "outcome": "not_ours"}
        try:
            tenant = self._tenants.get(str(tenant_id))
        except NotFoundError:
            return {"received": True, "outcome": "not_ours"}
        if not account or account != tenant.stripe_account_id:
            logger.warning("webhook account does not match the tenant", extra={"eventType": event_type})
            return {"received": True, "outcome": "account_mismatch"}
        claim = self._payments.claim_event(tenant.id, event_id, event_type, self._clock())
        if claim is Claim.DONE:
            return {"received": True, "outcome": "duplicate"}
        if claim is Claim.BUSY:  # another delivery is applying it; answer non-2xx so Stripe retries
            raise ConflictError("This event is being processed; Stripe will retry it.")
        try:
            outcome = self._apply(tenant.id, str(account), event_type, obj, metadata)
        except Exception:
            self._payments.release_event(tenant.id, event_id, event_type, self._clock())
            raise
        self._payments.finish_event(tenant.id, event_id, event_type, self._clock())
        return {"received": True, "outcome": outcome}

    def _apply(
        self, tenant_id: str, account: str, event_type: str, obj: dict[str, Any], metadata: dict[str, Any]
    ) -> str:
        appointment_id = str(metadata.get("appointmentId") or "")
        if event_type == "checkout.session.completed" and appointment_id:
            return self._paid(tenant_id, account, appointment_id, obj, str(metadata.get("purpose", "booking")))
        if event_type == "checkout.session.expired" and appointment_id:
            if str(metadata.get("purpose", "booking")) != "booking":
                return "ignored"
            expired = self._booking.expire_unpaid(tenant_id, appointment_id)
            return "expired" if expired else "not_pending"
        if event_type == "payment_intent.payment_failed" and appointment_id:
            if metadata.get(OFF_SESSION) == "true":
                return "recorded_by_charge"  # the call that charged the saved card recorded its decline
            error = obj.get("last_payment_error") or {}
            self._payments.record_entry(
                tenant_id,
                LedgerEntry(
                    f"pf-{obj.get('id')}",
                    appointment_id,
                    LedgerKind.FAILURE,
                    int(obj.get("amount") or 0),
                    str(obj.get("currency", "")).upper(),
                    self._clock(),
                    str(obj.get("id")),
                    f"payment failed: {error.get('decline_code') or error.get('code') or 'unknown'}",
                ),
            )
            return "failure_recorded"
        if event_type == "charge.refunded" and appointment_id:
            refunds = (obj.get("refunds") or {}).get("data") or []
            outcomes = [self._settle_refund(tenant_id, appointment_id, refund) for refund in refunds]
            return ",".join(outcomes) or "ignored"
        if event_type.startswith("refund.") and appointment_id:
            return self._settle_refund(tenant_id, appointment_id, obj)
        return "ignored"

    def _tell_client_it_was_too_late(self, appointment: Appointment) -> None:
        """Once per appointment: the payment came after the time was gone, and it is being refunded."""
        client = next(r for r in self._notifier.recipients(appointment) if r.is_client)
        reason = "Your payment arrived after this time was no longer available. It is refunded in full."

        def send() -> dict[str, Any]:
            return {"outcome": self._notifier.send(MailKind.CANCELLATION, appointment, client, reason)}

        self._ledger.once(appointment.tenant_id, appointment.id, 0, "mail:late-payment:client", self._clock, send)

    def _settle_refund(self, tenant_id: str, appointment_id: str, refund: dict[str, Any]) -> str:
        """A refund Stripe reports on: settles our request if the worker has not (e.g. it crashed
        after Stripe accepted). A refund that fails after having succeeded is only logged."""
        request_id = str((refund.get("metadata") or {}).get("requestId") or "")
        request = self._payments.refund_request(tenant_id, appointment_id, request_id) if request_id else None
        if request is None:
            return "unknown_refund"
        status = str(refund.get("status", ""))
        if request.status is RefundStatus.REQUESTED and status in ("succeeded", "pending"):
            self._payments.complete_refund(request, str(refund.get("id")), self._clock())
            return "refund_settled"
        if request.status is RefundStatus.REQUESTED and status in ("failed", "canceled"):
            self._payments.fail_refund(request, f"stripe refund {status}", self._clock())
            return "refund_failed"
        if request.status is RefundStatus.SUCCEEDED and status in ("failed", "canceled"):
            logger.error("a refund failed after it succeeded", extra={"requestId": request_id})
            return "refund_reversed_unhandled"
        return "refund_unchanged"

    def _paid(self, tenant_id: str, account: str, appointment_id: str, session: dict[str, Any], purpose: str) -> str:
        if session.get("payment_status") != "paid":
            return "unpaid"
        intent_id = str(session.get("payment_intent"))
        amount = int(session.get("amount_total") or 0)
        currency = str(session.get("currency", "")).upper()
        intent = self._gateway().payment_intent(account, intent_id)
        now = self._clock()
        charge = LedgerEntry(
            f"ch-{intent_id}", appointment_id, LedgerKind.CHARGE, amount, currency, now, intent_id, purpose
        )
        fee = LedgerEntry(
            f"fee-{intent_id}",
            appointment_id,
            LedgerKind.APPLICATION_FEE,
            int(intent.get("application_fee_amount") or 0),  # what Stripe took, whatever the setting is now
            currency,
            now,
            intent_id,
        )
        self._payments.record_charge(tenant_id, charge, fee, intent.get("customer"), intent.get("payment_method"))
        if purpose != "booking":
            return "balance_paid"
        outcome = self._booking.confirm_paid(tenant_id, appointment_id)
        if outcome in ("slot_taken", "cancelled"):
            appointment = self._booking.get(tenant_id, appointment_id)
            request = self._refunds.plan(appointment, RefundChoice(FULL), f"payment arrived too late ({outcome})")
            if request is not None:
                self._payments.request_refund(request)
            self._tell_client_it_was_too_late(appointment)
            return f"{outcome}_refunded"
        return outcome
