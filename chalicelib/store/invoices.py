"""Invoices and credit notes, their gap-free numbers and their one-per-sale claims.

A number is claimed in the SAME TransactWriteItems that writes the document: the series'
counter item goes from its current value n to n + 1 under the condition that it is still
n, beside the document and its claim. Two writers that read the same n cannot both commit;
the loser re-reads the counter and tries again. A transaction that fails for any other
reason takes no number, so the series has no gaps, and none repeats.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.domain.invoices import (
    Buyer,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PaymentLine,
    Seller,
    format_number,
)
from chalicelib.store import keys
from chalicelib.store.codec import address_from_data, address_to_data
from chalicelib.store.models import DocumentCounterItem, InvoiceClaimItem, InvoiceItem
from chalicelib.store.table import ensure_bound, failed_positions, is_condition_failure, transaction

MAX_ATTEMPTS = 500  # each retry means another writer took a number first: progress is guaranteed


class CreditExhaustedError(ConflictError):
    """What is left of the invoice is less than the credit note (a concurrent note took it)."""

    code = "credit_exhausted"


def _item(invoice: Invoice, pdf_key: str | None = None) -> InvoiceItem:
    issued = to_iso(invoice.issued_at)
    sort_key = keys.time_sort_key(issued, invoice.id)
    return InvoiceItem(
        keys.invoice_pk(invoice.tenant_id, invoice.id),
        keys.INVOICE_SK,
        gsi1pk=keys.invoices_gsi_pk(invoice.tenant_id),
        gsi1sk=sort_key,
        gsi2pk=keys.invoices_gsi_pk(invoice.tenant_id, invoice.kind.value),
        gsi2sk=sort_key,
        invoice_id=invoice.id,
        kind=invoice.kind.value,
        number=invoice.number,
        status=invoice.status.value,
        appointment_id=invoice.appointment_id,
        refers_to=invoice.refers_to,
        refers_to_number=invoice.refers_to_number,
        issued_at=issued,
        supplied_on=invoice.supplied_on.isoformat(),
        currency=invoice.currency,
        seller={
            "legalName": invoice.seller.legal_name,
            "address": address_to_data(invoice.seller.address),
            "taxId": invoice.seller.tax_id,
        },
        buyer={"name": invoice.buyer.name, "email": invoice.buyer.email},
        lines=[
            [
                line.description,
                line.quantity,
                line.unit_amount_cents,
                line.amount_cents,
                line.tax_rate_bps,
                line.tax_cents,
            ]
            for line in invoice.lines
        ],
        payments=[[p.description, p.amount_cents, to_iso(p.paid_at)] for p in invoice.payments],
        prices_include_tax=invoice.prices_include_tax,
        subtotal_cents=invoice.subtotal_cents,
        tax_cents=invoice.tax_cents,
        total_cents=invoice.total_cents,
        amount_paid_cents=invoice.amount_paid_cents,
        amount_due_cents=invoice.amount_due_cents,
        creditable_cents=invoice.total_cents if invoice.kind is InvoiceKind.INVOICE else 0,
        pdf_key=pdf_key,
        pdf_sha256=invoice.pdf_sha256,
    )


def to_invoice(tenant_id: str, item: InvoiceItem) -> Invoice:
    seller, buyer = item.seller or {}, item.buyer or {}
    return Invoice(
        id=item.invoice_id,
        tenant_id=tenant_id,
        kind=InvoiceKind(item.kind),
        number=item.number,
        status=InvoiceStatus(item.status),
        appointment_id=item.appointment_id,
        refers_to=item.refers_to,
        refers_to_number=item.refers_to_number,
        issued_at=from_iso(item.issued_at),
        supplied_on=date.fromisoformat(item.supplied_on),
        currency=item.currency,
        seller=Seller(str(seller["legalName"]), address_from_data(seller.get("address")), str(seller["taxId"])),
        buyer=Buyer(str(buyer["name"]), str(buyer["email"])),
        lines=tuple(InvoiceLine(str(d), int(q), int(u), int(a), int(r), int(t)) for d, q, u, a, r, t in item.lines),
        payments=tuple(PaymentLine(str(d), int(a), from_iso(at)) for d, a, at in item.payments or []),
        prices_include_tax=bool(item.prices_include_tax),
        subtotal_cents=int(item.subtotal_cents),
        tax_cents=int(item.tax_cents),
        total_cents=int(item.total_cents),
        amount_paid_cents=int(item.amount_paid_cents),
        amount_due_cents=int(item.amount_due_cents),
        pdf_sha256=item.pdf_sha256,
    )


class InvoiceRepository:
    """The only code that knows invoice, claim and counter keys."""

    def get(self, tenant_id: str, invoice_id: str) -> Invoice:
        return to_invoice(tenant_id, self._get_item(tenant_id, invoice_id))

    def _get_item(self, tenant_id: str, invoice_id: str) -> InvoiceItem:
        ensure_bound()
        try:
            return InvoiceItem.get(keys.invoice_pk(tenant_id, invoice_id), keys.INVOICE_SK, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFoundError("No such invoice.") from exc

    def pdf_key(self, tenant_id: str, invoice_id: str) -> str | None:
        return self._get_item(tenant_id, invoice_id).pdf_key

    def creditable_cents(self, tenant_id: str, invoice_id: str) -> int:
        return int(self._get_item(tenant_id, invoice_id).creditable_cents or 0)

    def for_appointment(self, tenant_id: str, appointment_id: str) -> Invoice | None:
        """The appointment's invoice, if one was issued."""
        claimed = self._claim(keys.appointment_pk(tenant_id, appointment_id), keys.INVOICE_SK)
        return self.get(tenant_id, claimed) if claimed else None

    def for_refund(self, tenant_id: str, appointment_id: str, refund_id: str) -> Invoice | None:
        claimed = self._claim(keys.appointment_pk(tenant_id, appointment_id), keys.credit_claim_sk(refund_id))
        return self.get(tenant_id, claimed) if claimed else None

    def _claim(self, pk: str, sk: str) -> str | None:
        ensure_bound()
        try:
            return InvoiceClaimItem.get(pk, sk, consistent_read=True).invoice_id
        except DoesNotExist:
            return None

    def last_number(self, tenant_id: str, kind: InvoiceKind, year: int) -> int:
        ensure_bound()
        try:
            item = DocumentCounterItem.get(
                keys.document_counter_pk(tenant_id, kind.value, year), keys.COUNTER_SK, consistent_read=True
            )
        except DoesNotExist:
            return 0
        return int(item.last or 0)

    def issue_invoice(
        self, draft: Invoice, prefix: str, year: int, paid_entries: frozenset[str] = frozenset()
    ) -> tuple[Invoice, bool]:
        """The appointment's one invoice: (it, True) when this call issued it, else (the earlier one,
        False). `paid_entries`: the charge ledger entries its amountPaidCents counts."""
        return self._issue(draft, prefix, year, claim_sk=keys.INVOICE_SK, paid_entries=paid_entries)

    def issue_credit_note(self, draft: Invoice, prefix: str, year: int, refund_id: str) -> tuple[Invoice, bool]:
        """The one credit note of a refund, taking its amount off what is left of `draft.refers_to`."""
        assert draft.refers_to is not None
        return self._issue(draft, prefix, year, claim_sk=keys.credit_claim_sk(refund_id), credit_of=draft.refers_to)

    def _issue(
        self,
        draft: Invoice,
        prefix: str,
        year: int,
        *,
        claim_sk: str,
        credit_of: str | None = None,
        paid_entries: frozenset[str] = frozenset(),
    ) -> tuple[Invoice, bool]:
        """Number and store `draft` with its claim; (document, True) when this call issued it,
        (the document that holds the claim, False) when one was issued already.

        A credit note (`credit_of` = the invoice's id) also takes its amount off what is left of
        that invoice, under the condition that enough is left."""
        ensure_bound()
        claim_pk = keys.appointment_pk(draft.tenant_id, draft.appointment_id)
        counter_pk = keys.document_counter_pk(draft.tenant_id, draft.kind.value, year)
        for _ in range(MAX_ATTEMPTS):
            last = self.last_number(draft.tenant_id, draft.kind, year)
            numbered = replace(draft, number=format_number(prefix, year, last + 1))
            counter = DocumentCounterItem(counter_pk, keys.COUNTER_SK, last=last + 1)
            try:
                with transaction() as tx:
                    tx.save(
                        counter,
                        condition=DocumentCounterItem.pk.does_not_exist()
                        if last == 0
                        else (DocumentCounterItem.last == last),
                    )
                    tx.save(
                        InvoiceClaimItem(claim_pk, claim_sk, invoice_id=draft.id),
                        condition=InvoiceClaimItem.pk.does_not_exist(),
                    )
                    document = _item(numbered)
                    document.paid_entries = set(paid_entries) or None
                    tx.save(document, condition=InvoiceItem.pk.does_not_exist())
                    if credit_of is not None:
                        amount = -numbered.total_cents
                        tx.update(
                            InvoiceItem(keys.invoice_pk(draft.tenant_id, credit_of), keys.INVOICE_SK),
                            actions=[InvoiceItem.creditable_cents.add(-amount)],
                            condition=InvoiceItem.creditable_cents >= amount,
                        )
            except TransactWriteError as exc:
                failed = set(failed_positions(exc)) if is_condition_failure(exc) else set()
                if 1 in failed:
                    existing = self._claim(claim_pk, claim_sk)
                    if existing is not None:
                        return self.get(draft.tenant_id, existing), False
                if 3 in failed:
                    raise CreditExhaustedError("Less is left of that invoice than this credit note.") from exc
                if failed == {0}:
                    continue  # another document took this number: read the counter again
                raise
            return numbered, True
        raise ConflictError("Could not claim an invoice number; try again.")

    def record_payment(
        self, tenant_id: str, invoice_id: str, entry_id: str, updated: Invoice, paid_before: int
    ) -> bool:
        """Count a later charge on the invoice once (False: it was counted already). Conditional
        on the amount read, so two charges applied at once cannot lose one another."""
        ensure_bound()
        item = InvoiceItem(keys.invoice_pk(tenant_id, invoice_id), keys.INVOICE_SK)
        try:
            item.update(
                actions=[
                    InvoiceItem.paid_entries.add({entry_id}),
                    InvoiceItem.amount_paid_cents.set(updated.amount_paid_cents),
                    InvoiceItem.amount_due_cents.set(updated.amount_due_cents),
                    InvoiceItem.status.set(updated.status.value),
                    InvoiceItem.payments.set(
                        [[p.description, p.amount_cents, to_iso(p.paid_at)] for p in updated.payments]
                    ),
                ],
                condition=~InvoiceItem.paid_entries.contains(entry_id) & (InvoiceItem.amount_paid_cents == paid_before),
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            return False
        return True

    def counts_payment(self, tenant_id: str, invoice_id: str, entry_id: str) -> bool:
        return entry_id in (self._get_item(tenant_id, invoice_id).paid_entries or set())

    def attach_pdf(self, tenant_id: str, invoice_id: str, key: str, sha256: str) -> str:
        """Record where the PDF was stored and its digest, once: a stored PDF never changes.
        Returns the digest recorded (another writer's, if it recorded first)."""
        ensure_bound()
        try:
            InvoiceItem(keys.invoice_pk(tenant_id, invoice_id), keys.INVOICE_SK).update(
                actions=[InvoiceItem.pdf_key.set(key), InvoiceItem.pdf_sha256.set(sha256)],
                condition=InvoiceItem.pk.exists() & InvoiceItem.pdf_key.does_not_exist(),
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            return str(self._get_item(tenant_id, invoice_id).pdf_sha256)
        return sha256

    def page(
        self,
        tenant_id: str,
        start: datetime,
        end: datetime,
        kind: InvoiceKind | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Invoice], str | None]:
        """By issue date, oldest first; the cursor is DynamoDB's own position, checked to be this query's."""
        ensure_bound()
        low, high = f"{to_iso(start)}#", f"{to_iso(end)}#"
        partition = keys.invoices_gsi_pk(tenant_id, kind.value if kind else None)
        index_pk = "gsi2pk" if kind else "gsi1pk"
        last_key = _decode_cursor(cursor, index_pk, partition)
        results: Any
        if kind:
            results = InvoiceItem.gsi2.query(
                partition, InvoiceItem.gsi2sk.between(low, high), limit=limit, last_evaluated_key=last_key
            )
        else:
            results = InvoiceItem.gsi1.query(
                partition, InvoiceItem.gsi1sk.between(low, high), limit=limit, last_evaluated_key=last_key
            )
        found = [to_invoice(tenant_id, item) for item in results if isinstance(item, InvoiceItem)]
        # `between` is inclusive; an instant equal to `end` is outside the half-open window
        found = [invoice for invoice in found if invoice.issued_at < end]
        return found, _encode_cursor(results.last_evaluated_key)


def _encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, index_pk: str, partition: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        owner = data[index_pk]["S"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}}) from exc
    if owner != partition:
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}})
    return dict(data)
