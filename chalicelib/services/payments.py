"""An appointment's money as the business sees it: the ledger, refunds on demand, the balance
(a payment link, or the saved card charged off-session) and the no-show fee."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import config
from chalicelib.domain.appointments import Appointment
from chalicelib.domain.errors import (
    CardDeclinedDomainError,
    NotFoundError,
    RuleViolationError,
    UpstreamUnavailableError,
)
from chalicelib.domain.payments import LedgerEntry, LedgerKind, Money, RefundRequest, application_fee
from chalicelib.domain.tenant import Tenant
from chalicelib.gateways.payments import CardDeclinedError, PaymentError, PaymentGateway, PaymentUnavailableError
from chalicelib.services.booking import BookingService
from chalicelib.services.checkout import CheckoutService, require_payments
from chalicelib.services.refunds import Refunds
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.payments import PaymentRepository

# Metadata on a charge of the saved card: its own call records a decline, so the webhook does not.
OFF_SESSION = "offSession"


@dataclass(frozen=True)
class PaymentsView:
    appointment: Appointment
    money: Money
    ledger: list[LedgerEntry]
    refunds: list[RefundRequest]


class Payments:
    def __init__(
        self,
        appointments: AppointmentRepository,
        catalog: CatalogRepository,
        payments: PaymentRepository,
        refunds: Refunds,
        checkout: CheckoutService,
        gateway: Callable[[], PaymentGateway],
        clock: Callable[[], datetime],
        booking: BookingService,
    ) -> None:
        self._booking = booking
        self._appointments = appointments
        self._catalog = catalog
        self._payments = payments
        self._refunds = refunds
        self._checkout = checkout
        self._gateway = gateway
        self._clock = clock

    def view(self, tenant_id: str, appointment_id: str) -> PaymentsView:
        appointment = self._appointments.get(tenant_id, appointment_id)
        return PaymentsView(
            appointment,
            self._payments.money(tenant_id, appointment_id, appointment.currency),
            sorted(self._payments.ledger(tenant_id, appointment_id), key=lambda e: (e.at, e.id)),
            sorted(self._payments.refund_requests(tenant_id, appointment_id), key=lambda r: r.requested_at),
        )

    def refund(self, tenant_id: str, appointment_id: str, amount_cents: int | None, reason: str) -> RefundRequest:
        return self._refunds.request(self._appointments.get(tenant_id, appointment_id), amount_cents, reason)

    def balance(self, tenant: Tenant, appointment_id: str, method: str) -> dict[str, Any]:
        """What is still owed: a Checkout link, or the saved card charged now."""
        appointment = self._appointments.get(tenant.id, appointment_id)
        money = self._payments.money(tenant.id, appointment_id, appointment.currency)
        owed = appointment.price_cents - money.paid_cents
        if owed <= 0:
            raise RuleViolationError("Nothing is owed on this appointment.", {"owedCents": 0})
        if method == "link":
            return {"owedCents": owed, "url": self._checkout.for_balance(tenant, appointment, money)}
        charged = self._charge_saved_card(
            tenant, appointment, money, owed, self._balance_charge_key(appointment, money), "balance"
        )
        return {"owedCents": owed, "chargedCents": charged}

    def _balance_charge_key(self, appointment: Appointment, money: Money) -> str:
        """Stable while nothing changes (a retried request cannot charge twice), new after each
        payment or decline: Stripe keeps a declined result under its key, so a second attempt
        with the same key would only replay the decline."""
        declines = sum(
            1
            for entry in self._payments.ledger(appointment.tenant_id, appointment.id)
            if entry.kind is LedgerKind.FAILURE
        )
        return f"balance-{appointment.id}-{money.paid_cents}-{declines}"

    def mark_no_show(self, tenant: Tenant, appointment_id: str) -> tuple[Appointment, dict[str, Any]]:
        """Mark the no-show (the state change commits first), then try the fee."""
        appointment = self._booking.no_show(tenant.id, appointment_id)
        return appointment, self.no_show_fee(tenant, appointment)

    def no_show_fee(self, tenant: Tenant, appointment: Appointment) -> dict[str, Any]:
        """Charge the service's no-show fee to the saved card, when both exist; declines are recorded."""
        try:
            fee = self._catalog.get_service(tenant.id, appointment.service_id).no_show_fee_cents
        except NotFoundError:
            fee = None
        if not fee:
            return {"status": "not_configured"}
        money = self._payments.money(tenant.id, appointment.id, appointment.currency)
        if not money.customer_id or not money.payment_method_id:
            return {"status": "no_saved_card", "amountCents": fee}
        try:
            self._charge_saved_card(tenant, appointment, money, fee, f"no-show-{appointment.id}", "no-show fee")
        except CardDeclinedDomainError as declined:
            return {"status": "declined", "amountCents": fee, **declined.details}
        return {"status": "charged", "amountCents": fee}

    def _charge_saved_card(
        self, tenant: Tenant, appointment: Appointment, money: Money, amount: int, key: str, note: str
    ) -> int:
        account = require_payments(tenant)
        if not money.customer_id or not money.payment_method_id:
            raise RuleViolationError("No card was saved for this appointment; send a payment link instead.")
        now = self._clock()
        fee_cents = application_fee(amount, config.platform_fee_bps())
        metadata = {"tenantId": tenant.id, "appointmentId": appointment.id, "purpose": note, OFF_SESSION: "true"}
        try:
            charge = self._gateway().charge_saved_card(
                account,
                money.customer_id,
                money.payment_method_id,
                amount,
                appointment.currency,
                fee_cents,
                metadata,
                idempotency_key=key,
            )
        except CardDeclinedError as exc:
            self._payments.record_entry(
                tenant.id,
                LedgerEntry(
                    f"decl-{key}",
                    appointment.id,
                    LedgerKind.FAILURE,
                    amount,
                    appointment.currency,
                    now,
                    exc.payment_intent_id,
                    f"{note} declined: {exc.decline_code or 'card_declined'}",
                ),
            )
            raise CardDeclinedDomainError(
                "The saved card was declined.", {"declineCode": exc.decline_code or "card_declined"}
            ) from exc
        except PaymentUnavailableError as exc:
            raise UpstreamUnavailableError("The payment provider is unavailable; please retry.") from exc
        except PaymentError as exc:
            raise RuleViolationError(f"Stripe refused the charge: {exc}") from exc
        entry = LedgerEntry(
            f"ch-{charge.payment_intent_id}",
            appointment.id,
            LedgerKind.CHARGE,
            charge.amount_cents,
            appointment.currency,
            now,
            charge.payment_intent_id,
            note,
        )
        fee = LedgerEntry(
            f"fee-{charge.payment_intent_id}",
            appointment.id,
            LedgerKind.APPLICATION_FEE,
            fee_cents,
            appointment.currency,
            now,
            charge.payment_intent_id,
        )
        self._payments.record_charge(tenant.id, entry, fee, None, None)
        return charge.amount_cents
