"""The money side of an appointment: ledger entries, running totals, refund requests, and the
Stripe events and accounts the platform has seen.

Totals change only in the same transaction as the ledger entry that explains them, so the
appointment's paid/refunded amounts always derive from its ledger.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import ConflictError, RefundTooLargeError
from chalicelib.domain.payments import LedgerEntry, LedgerKind, Money, RefundRequest, RefundStatus
from chalicelib.store import keys, leases
from chalicelib.store.appointments import money_of
from chalicelib.store.leases import Claim
from chalicelib.store.models import LedgerItem, MoneyItem, RefundRequestItem, StripeAccountItem, StripeEventItem
from chalicelib.store.table import ensure_bound, failed_positions, is_condition_failure, transaction

EVENT_LEASE = timedelta(minutes=2)
EVENT_RETENTION = timedelta(days=35)


def _ledger_item(tenant_id: str, entry: LedgerEntry) -> LedgerItem:
    at = to_iso(entry.at)
    return LedgerItem(
        keys.appointment_pk(tenant_id, entry.appointment_id),
        keys.ledger_sk(at, entry.id),
        gsi2pk=keys.ledger_gsi_pk(tenant_id),
        gsi2sk=f"{at}#{entry.id}",
        entry_id=entry.id,
        appointment_id=entry.appointment_id,
        kind=entry.kind.value,
        amount_cents=entry.amount_cents,
        currency=entry.currency,
        at=at,
        stripe_id=entry.stripe_id,
        note=entry.note,
    )


def _entry(item: LedgerItem) -> LedgerEntry:
    return LedgerEntry(
        item.entry_id,
        item.appointment_id,
        LedgerKind(item.kind),
        int(item.amount_cents),
        item.currency,
        from_iso(item.at),
        item.stripe_id,
        item.note or "",
    )


def _refund(tenant_id: str, item: RefundRequestItem) -> RefundRequest:
    return RefundRequest(
        id=item.request_id,
        tenant_id=tenant_id,
        appointment_id=item.appointment_id,
        amount_cents=int(item.amount_cents),
        currency=item.currency,
        payment_intent_id=item.payment_intent_id,
        reason=item.reason or "",
        requested_at=from_iso(item.requested_at),
        status=RefundStatus(item.status),
        stripe_refund_id=item.stripe_refund_id,
        failure=item.failure,
    )


def entry_from_image(image: dict[str, Any]) -> LedgerEntry:
    """A ledger entry from a stream record's plain image (the dispatcher reacts to new entries)."""
    return LedgerEntry(
        str(image["entry_id"]),
        str(image["appointment_id"]),
        LedgerKind(image["kind"]),
        int(image["amount_cents"]),
        str(image["currency"]),
        from_iso(str(image["at"])),
        image.get("stripe_id"),
        str(image.get("note") or ""),
    )


class PaymentRepository:
    # totals -----------------------------------------------------------------------------
    def money(self, tenant_id: str, appointment_id: str, currency: str) -> Money:
        ensure_bound()
        try:
            return money_of(
                MoneyItem.get(keys.appointment_pk(tenant_id, appointment_id), keys.MONEY_SK, consistent_read=True)
            )
        except DoesNotExist:
            return Money(currency=currency)

    def set_checkout(self, tenant_id: str, appointment_id: str, currency: str, session_id: str) -> None:
        ensure_bound()
        MoneyItem(keys.appointment_pk(tenant_id, appointment_id), keys.MONEY_SK).update(
            actions=[
                MoneyItem.currency.set(currency),
                MoneyItem.checkout_session_id.set(session_id),
                MoneyItem.type.set(MoneyItem),
            ]
        )

    # ledger -----------------------------------------------------------------------------
    def record_charge(
        self,
        tenant_id: str,
        charge: LedgerEntry,
        fee: LedgerEntry | None,
        customer: str | None,
        payment_method: str | None,
    ) -> bool:
        """The charge (keyed by its payment intent: recorded once, whenever it is recorded again),
        its fee and the totals. False if that payment was already recorded."""
        ensure_bound()
        pk = keys.appointment_pk(tenant_id, charge.appointment_id)
        intent = charge.stripe_id or charge.id
        actions: list[Any] = [
            MoneyItem.type.set(MoneyItem),
            MoneyItem.currency.set(charge.currency),
            MoneyItem.paid.add(charge.amount_cents),
            MoneyItem.refundable.add(charge.amount_cents),
            MoneyItem.charged_intents.add({intent}),
            # refunds go against the first payment (a later balance charge does not replace it)
            MoneyItem.payment_intent_id.set(MoneyItem.payment_intent_id | (charge.stripe_id or "")),
        ]
        if customer:
            actions.append(MoneyItem.customer_id.set(customer))
        if payment_method:
            actions.append(MoneyItem.payment_method_id.set(payment_method))
        try:
            with transaction() as tx:
                # The totals first: their condition is the one that says "seen" (ledger keys hold a time).
                tx.update(
                    MoneyItem(pk, keys.MONEY_SK),
                    actions=actions,
                    condition=~MoneyItem.charged_intents.contains(intent),
                )
                tx.save(_ledger_item(tenant_id, charge), condition=LedgerItem.pk.does_not_exist())
                if fee is not None and fee.amount_cents > 0:
                    tx.save(_ledger_item(tenant_id, fee), condition=LedgerItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if is_condition_failure(exc) and set(failed_positions(exc)) & {0, 1}:
                return False
            raise
        return True

    def record_entry(self, tenant_id: str, entry: LedgerEntry) -> None:
        """A ledger line that moves no totals (a failed charge, a declined card)."""
        ensure_bound()
        try:
            _ledger_item(tenant_id, entry).save(condition=LedgerItem.pk.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise

    def ledger(self, tenant_id: str, appointment_id: str) -> list[LedgerEntry]:
        ensure_bound()
        query = LedgerItem.query(
            keys.appointment_pk(tenant_id, appointment_id), LedgerItem.sk.startswith(keys.LEDGER_PREFIX)
        )
        return [_entry(i) for i in query]

    def ledger_between(self, tenant_id: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        """Every ledger line of the tenant whose money moved in [start, end): one Query of the
        tenant's ledger index, paged by DynamoDB, whatever the number of appointments."""
        ensure_bound()
        low, high = to_iso(start), to_iso(end - timedelta(microseconds=1))
        query = LedgerItem.gsi2.query(keys.ledger_gsi_pk(tenant_id), LedgerItem.gsi2sk.between(low, f"{high}#~"))
        return [_entry(i) for i in query if isinstance(i, LedgerItem)]

    # refunds ----------------------------------------------------------------------------
    def add_refund_request(self, tx: TransactWrite, request: RefundRequest) -> None:
        """Reserve the amount and write the request, inside a caller's transaction."""
        pk = keys.appointment_pk(request.tenant_id, request.appointment_id)
        tx.update(
            MoneyItem(pk, keys.MONEY_SK),
            actions=[MoneyItem.refundable.add(-request.amount_cents)],
            condition=MoneyItem.refundable >= request.amount_cents,
        )
        tx.save(
            RefundRequestItem(
                pk,
                keys.refund_sk(request.id),
                request_id=request.id,
                appointment_id=request.appointment_id,
                amount_cents=request.amount_cents,
                currency=request.currency,
                status=request.status.value,
                reason=request.reason[:500],
                payment_intent_id=request.payment_intent_id,
                requested_at=to_iso(request.requested_at),
            ),
            condition=RefundRequestItem.pk.does_not_exist(),
        )

    def request_refund(self, request: RefundRequest) -> None:
        ensure_bound()
        try:
            with transaction() as tx:
                self.add_refund_request(tx, request)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise RefundTooLargeError("That is more than what remains to refund.") from exc
            raise

    def refund_request(self, tenant_id: str, appointment_id: str, request_id: str) -> RefundRequest | None:
        ensure_bound()
        try:
            item = RefundRequestItem.get(
                keys.appointment_pk(tenant_id, appointment_id), keys.refund_sk(request_id), consistent_read=True
            )
        except DoesNotExist:
            return None
        return _refund(tenant_id, item)

    def refund_requests(self, tenant_id: str, appointment_id: str) -> list[RefundRequest]:
        ensure_bound()
        query = RefundRequestItem.query(
            keys.appointment_pk(tenant_id, appointment_id), RefundRequestItem.sk.startswith(keys.REFUND_PREFIX)
        )
        return [_refund(tenant_id, item) for item in query]

    def complete_refund(self, request: RefundRequest, stripe_refund_id: str, at: datetime) -> bool:
        """Requested -> succeeded with its ledger line and totals; False if it was settled already."""
        ensure_bound()
        pk = keys.appointment_pk(request.tenant_id, request.appointment_id)
        entry = LedgerEntry(
            f"rf-{request.id}",
            request.appointment_id,
            LedgerKind.REFUND,
            request.amount_cents,
            request.currency,
            at,
            stripe_refund_id,
            request.reason[:200],
        )
        try:
            with transaction() as tx:
                tx.update(
                    RefundRequestItem(pk, keys.refund_sk(request.id)),
                    actions=[
                        RefundRequestItem.status.set(RefundStatus.SUCCEEDED.value),
                        RefundRequestItem.stripe_refund_id.set(stripe_refund_id),
                    ],
                    condition=RefundRequestItem.status == RefundStatus.REQUESTED.value,
                )
                tx.save(_ledger_item(request.tenant_id, entry), condition=LedgerItem.pk.does_not_exist())
                tx.update(MoneyItem(pk, keys.MONEY_SK), actions=[MoneyItem.refunded.add(request.amount_cents)])
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def fail_refund(self, request: RefundRequest, failure: str, at: datetime) -> bool:
        """Requested -> failed: the reserved amount becomes refundable again, and the ledger says why."""
        ensure_bound()
        pk = keys.appointment_pk(request.tenant_id, request.appointment_id)
        entry = LedgerEntry(
            f"rff-{request.id}",
            request.appointment_id,
            LedgerKind.FAILURE,
            request.amount_cents,
            request.currency,
            at,
            None,
            f"refund failed: {failure[:180]}",
        )
        try:
            with transaction() as tx:
                tx.update(
                    RefundRequestItem(pk, keys.refund_sk(request.id)),
                    actions=[
                        RefundRequestItem.status.set(RefundStatus.FAILED.value),
                        RefundRequestItem.failure.set(failure[:500]),
                    ],
                    condition=RefundRequestItem.status == RefundStatus.REQUESTED.value,
                )
                tx.save(_ledger_item(request.tenant_id, entry), condition=LedgerItem.pk.does_not_exist())
                tx.update(MoneyItem(pk, keys.MONEY_SK), actions=[MoneyItem.refundable.add(request.amount_cents)])
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    # webhook events -----------------------------------------------------------------------
    def _event(self, tenant_id: str, event_id: str, event_type: str, now: datetime) -> StripeEventItem:
        return StripeEventItem(
            keys.stripe_event_pk(tenant_id, event_id),
            keys.EVENT_SK,
            event_type=event_type,
            expires_at=now + EVENT_RETENTION,
        )

    def claim_event(self, tenant_id: str, event_id: str, event_type: str, now: datetime) -> Claim:
        return leases.claim(self._event(tenant_id, event_id, event_type, now), now, EVENT_LEASE)

    def finish_event(self, tenant_id: str, event_id: str, event_type: str, now: datetime) -> None:
        leases.finish(self._event(tenant_id, event_id, event_type, now))

    def release_event(self, tenant_id: str, event_id: str, event_type: str, now: datetime) -> None:
        leases.release(self._event(tenant_id, event_id, event_type, now))

    # connected accounts -------------------------------------------------------------------
    def register_account(self, account_id: str, tenant_id: str) -> None:
        """Claim a connected account for a tenant; one already claimed by another tenant is a conflict."""
        ensure_bound()
        try:
            StripeAccountItem(keys.stripe_account_pk(account_id), keys.ACCOUNT_SK, tenant_id=tenant_id).save(
                condition=StripeAccountItem.pk.does_not_exist() | (StripeAccountItem.tenant_id == tenant_id)
            )
        except PutError as exc:
            if is_condition_failure(exc):
                raise ConflictError("That Stripe account belongs to another business.") from exc
            raise

    def tenant_for_account(self, account_id: str) -> str | None:
        ensure_bound()
        try:
            return StripeAccountItem.get(keys.stripe_account_pk(account_id), keys.ACCOUNT_SK).tenant_id
        except DoesNotExist:
            return None
