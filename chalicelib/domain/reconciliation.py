"""Reconciliation: our ledger against Stripe's balance transactions, every difference listed.

Charges are matched by payment intent (the ledger keys a charge by it; Stripe's charge
transaction names it through its source), refunds by refund id, and the application fee
the ledger recorded against the platform's part of the charge transaction's `fee`. Stripe's
processing fee is reported, not compared: the ledger never records it.

The period is the ledger's: a matched pair counts when its ledger entry falls in it, and an
unmatched Stripe transaction when it was created in it. Matches are looked for `MARGIN`
either side, so money recorded by a webhook a little after Stripe moved it still pairs up
across the period's edge. With that rule the differences explain the gap between the two
sides' totals to the cent:
`sum(differenceCents of the amount rows) = (ledger charges - refunds) - (Stripe charges - refunds)`,
and the same for fees with the fee rows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.payments import LedgerEntry, LedgerKind

MARGIN = timedelta(days=2)
CHARGE_TYPES = frozenset({"charge", "payment"})
REFUND_TYPES = frozenset({"refund", "payment_refund"})


@dataclass(frozen=True)
class BalanceTransaction:
    """One movement of a connected account's balance, as Stripe's `GET /v1/balance_transactions` lists it."""

    id: str
    type: str  # charge, payment, refund, payment_refund, payout, adjustment...
    amount_cents: int  # signed: a refund is negative
    currency: str  # upper case, as the ledger writes it
    application_fee_cents: int  # the platform's part of `fee`
    processing_fee_cents: int  # the rest of `fee` (Stripe's own)
    created: datetime
    source_id: str | None  # the charge or refund id
    payment_intent_id: str | None  # for a charge: the intent the ledger keys it by


class DifferenceKind(enum.StrEnum):
    MISSING_IN_STRIPE = "missing_in_stripe"  # the ledger holds money Stripe never moved
    MISSING_IN_LEDGER = "missing_in_ledger"  # Stripe moved money the ledger does not know
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_MISMATCH = "fee_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    reference: str  # the payment intent or refund id both sides key the money by
    appointment_id: str | None
    balance_transaction_id: str | None
    at: datetime
    ledger_cents: int  # signed as Stripe signs it: a refund is negative
    stripe_cents: int
    difference_cents: int  # ledger - stripe
    detail: str


@dataclass(frozen=True)
class ReconciliationTotals:
    ledger_charges_cents: int
    stripe_charges_cents: int
    ledger_refunds_cents: int  # positive amounts, as the revenue report shows them
    stripe_refunds_cents: int
    ledger_fees_cents: int
    stripe_fees_cents: int  # the platform's application fees Stripe took
    processing_fees_cents: int  # Stripe's own fees: not in the ledger, not compared
    matched: int
    differences: int
    other_transactions: int  # payouts, adjustments...: not money the ledger records


@dataclass
class _Side:
    """What one side says about one reference: a charge (with its fees) or a refund."""

    refund: bool
    at: datetime
    currency: str
    cents: int = 0  # signed: a refund is negative
    fee_cents: int = 0
    processing_fee_cents: int = 0
    appointment_id: str | None = None
    transaction_id: str | None = None


@dataclass
class _Sums:
    ledger_charges: int = 0
    stripe_charges: int = 0
    ledger_refunds: int = 0
    stripe_refunds: int = 0
    ledger_fees: int = 0
    stripe_fees: int = 0
    processing_fees: int = 0
    matched: int = 0

    def add(self, side: _Side, ours: bool) -> None:
        if side.refund and ours:
            self.ledger_refunds -= side.cents
        elif side.refund:
            self.stripe_refunds -= side.cents
        elif ours:
            self.ledger_charges += side.cents
            self.ledger_fees += side.fee_cents
        else:
            self.stripe_charges += side.cents
            self.stripe_fees += side.fee_cents
            self.processing_fees += side.processing_fee_cents


def reconcile(
    ledger: Iterable[LedgerEntry], transactions: Iterable[BalanceTransaction], start: datetime, end: datetime
) -> tuple[list[Difference], ReconciliationTotals]:
    """Both sides as read over [start - MARGIN, end + MARGIN); the answer is about [start, end)."""
    listed = list(transactions)
    ours, theirs = _ledger_sides(ledger), _stripe_sides(listed)
    sums = _Sums()
    differences: list[Difference] = []
    for reference in ours.keys() | theirs.keys():
        mine, stripe = ours.get(reference), theirs.get(reference)
        counted = mine or stripe
        if counted is None or not start <= counted.at < end:
            continue  # the pair belongs to a neighbouring period
        for side, is_ours in ((mine, True), (stripe, False)):
            if side is not None:
                sums.add(side, is_ours)
        found = compare(reference, mine, stripe)
        differences.extend(found)
        sums.matched += mine is not None and stripe is not None and not found
    other = sum(1 for t in listed if t.type not in CHARGE_TYPES | REFUND_TYPES and start <= t.created < end)
    totals = ReconciliationTotals(
        ledger_charges_cents=sums.ledger_charges,
        stripe_charges_cents=sums.stripe_charges,
        ledger_refunds_cents=sums.ledger_refunds,
        stripe_refunds_cents=sums.stripe_refunds,
        ledger_fees_cents=sums.ledger_fees,
        stripe_fees_cents=sums.stripe_fees,
        processing_fees_cents=sums.processing_fees,
        matched=sums.matched,
        differences=len(differences),
        other_transactions=other,
    )
    return sorted(differences, key=lambda d: (d.at, d.reference, d.kind.value)), totals


def compare(reference: str, mine: _Side | None, stripe: _Side | None) -> list[Difference]:
    """What differs between the two sides' account of one reference (nothing when they agree).

    A side that is missing has an amount and a fee of 0, so a missing charge with a fee gives
    a fee row as well: every cent of either gap is in some row."""
    found = []
    ledger_cents, stripe_cents = (mine.cents if mine else 0), (stripe.cents if stripe else 0)
    if stripe is None:
        detail = "in the ledger, but Stripe lists no balance transaction for it"
        found.append(_difference(DifferenceKind.MISSING_IN_STRIPE, reference, mine, None, ledger_cents, 0, detail))
    elif mine is None:
        detail = f"a Stripe {'refund' if stripe.refund else 'charge'} the ledger does not record"
        found.append(_difference(DifferenceKind.MISSING_IN_LEDGER, reference, None, stripe, 0, stripe_cents, detail))
    else:
        if mine.currency != stripe.currency:
            detail = f"ledger in {mine.currency}, Stripe in {stripe.currency}"
            found.append(_difference(DifferenceKind.CURRENCY_MISMATCH, reference, mine, stripe, 0, 0, detail))
        if ledger_cents != stripe_cents:
            kind = DifferenceKind.AMOUNT_MISMATCH
            found.append(_difference(kind, reference, mine, stripe, ledger_cents, stripe_cents, "the amounts differ"))
    ledger_fee, stripe_fee = (mine.fee_cents if mine else 0), (stripe.fee_cents if stripe else 0)
    if ledger_fee != stripe_fee:
        detail = "the application fees differ"
        found.append(_difference(DifferenceKind.FEE_MISMATCH, reference, mine, stripe, ledger_fee, stripe_fee, detail))
    return found


def _difference(
    kind: DifferenceKind,
    reference: str,
    mine: _Side | None,
    stripe: _Side | None,
    ledger_cents: int,
    stripe_cents: int,
    detail: str,
) -> Difference:
    side = mine or stripe
    assert side is not None
    return Difference(
        kind=kind,
        reference=reference,
        appointment_id=mine.appointment_id if mine else None,
        balance_transaction_id=stripe.transaction_id if stripe else None,
        at=side.at,
        ledger_cents=ledger_cents,
        stripe_cents=stripe_cents,
        difference_cents=ledger_cents - stripe_cents,
        detail=detail,
    )


def _ledger_sides(ledger: Iterable[LedgerEntry]) -> dict[str, _Side]:
    """Charges and their fees by payment intent, refunds by refund id; an entry without a Stripe id
    stands alone under its own id (and so can only be missing in Stripe)."""
    sides: dict[str, _Side] = {}
    for entry in ledger:
        if entry.kind is LedgerKind.FAILURE:
            continue
        reference = entry.stripe_id or entry.id
        refund = entry.kind is LedgerKind.REFUND
        side = sides.setdefault(reference, _Side(refund, entry.at, entry.currency, appointment_id=entry.appointment_id))
        if entry.kind is LedgerKind.APPLICATION_FEE:
            side.fee_cents += entry.amount_cents
        else:
            side.cents += -entry.amount_cents if refund else entry.amount_cents
            side.at = entry.at  # the charge's instant, should its fee have been read first
    return sides


def _stripe_sides(transactions: Sequence[BalanceTransaction]) -> dict[str, _Side]:
    sides: dict[str, _Side] = {}
    for txn in transactions:
        if txn.type in CHARGE_TYPES:
            reference = txn.payment_intent_id or txn.source_id or txn.id
        elif txn.type in REFUND_TYPES:
            reference = txn.source_id or txn.id
        else:
            continue
        side = sides.setdefault(reference, _Side(txn.type in REFUND_TYPES, txn.created, txn.currency))
        side.cents += txn.amount_cents
        side.fee_cents += txn.application_fee_cents
        side.processing_fee_cents += txn.processing_fee_cents
        side.transaction_id = side.transaction_id or txn.id
    return sides
