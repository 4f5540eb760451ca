"""Reconciliation: the ledger against Stripe's balance transactions, pair by pair."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.domain.reconciliation import (
    BalanceTransaction,
    DifferenceKind,
    reconcile,
)

START = datetime(2027, 3, 1, tzinfo=UTC)
END = datetime(2027, 4, 1, tzinfo=UTC)
AT = datetime(2027, 3, 10, 12, tzinfo=UTC)


def charge(intent: str, cents: int, fee: int, at: datetime = AT, currency: str = "EUR") -> list[LedgerEntry]:
    return [
        LedgerEntry(f"ch-{intent}", "ap1", LedgerKind.CHARGE, cents, currency, at, intent),
        LedgerEntry(f"fee-{intent}", "ap1", LedgerKind.APPLICATION_FEE, fee, currency, at, intent),
    ]


def refund(refund_id: str, cents: int, at: datetime = AT) -> LedgerEntry:
    return LedgerEntry(f"rf-{refund_id}", "ap1", LedgerKind.REFUND, cents, "EUR", at, refund_id)


def txn_charge(
    intent: str, cents: int, fee: int, at: datetime = AT, processing: int = 0, currency: str = "EUR"
) -> BalanceTransaction:
    return BalanceTransaction(f"txn_{intent}", "charge", cents, currency, fee, processing, at, f"ch_{intent}", intent)


def txn_refund(refund_id: str, cents: int, at: datetime = AT) -> BalanceTransaction:
    return BalanceTransaction(f"txn_{refund_id}", "refund", -cents, "EUR", 0, 0, at, refund_id, None)


def test_given_both_sides_agree_when_reconciling_then_no_difference_and_the_totals_match() -> None:
    ledger = [*charge("pi_1", 5000, 250), refund("re_1", 2000)]
    stripe = [txn_charge("pi_1", 5000, 250, AT - timedelta(seconds=3), processing=175), txn_refund("re_1", 2000)]

    differences, totals = reconcile(ledger, stripe, START, END)

    assert differences == []
    assert (totals.ledger_charges_cents, totals.stripe_charges_cents) == (5000, 5000)
    assert (totals.ledger_refunds_cents, totals.stripe_refunds_cents) == (2000, 2000)
    assert (totals.ledger_fees_cents, totals.stripe_fees_cents, totals.processing_fees_cents) == (250, 250, 175)
    assert (totals.matched, totals.differences, totals.other_transactions) == (2, 0, 0)


def test_given_a_ledger_charge_stripe_never_made_when_reconciling_then_missing_in_stripe_with_its_fee() -> None:
    differences, totals = reconcile(charge("pi_1", 5000, 250), [], START, END)

    assert [(d.kind, d.reference, d.ledger_cents, d.stripe_cents, d.difference_cents) for d in differences] == [
        (DifferenceKind.FEE_MISMATCH, "pi_1", 250, 0, 250),
        (DifferenceKind.MISSING_IN_STRIPE, "pi_1", 5000, 0, 5000),
    ]
    assert differences[0].appointment_id == "ap1" and differences[0].balance_transaction_id is None
    assert (totals.matched, totals.differences) == (0, 2)


def test_given_a_stripe_refund_the_ledger_lacks_when_reconciling_then_missing_in_ledger_signed_negative() -> None:
    differences, totals = reconcile([], [txn_refund("re_9", 700)], START, END)

    (row,) = differences
    assert (row.kind, row.reference, row.balance_transaction_id) == (
        DifferenceKind.MISSING_IN_LEDGER,
        "re_9",
        "txn_re_9",
    )
    assert (row.ledger_cents, row.stripe_cents, row.difference_cents, row.appointment_id) == (0, -700, 700, None)
    assert totals.stripe_refunds_cents == 700 and totals.ledger_refunds_cents == 0


def test_given_pairs_that_disagree_when_reconciling_then_amount_fee_and_currency_rows_name_them() -> None:
    ledger = [*charge("pi_a", 5000, 250), *charge("pi_b", 3000, 150), *charge("pi_c", 1000, 50, currency="USD")]
    stripe = [txn_charge("pi_a", 4500, 250), txn_charge("pi_b", 3000, 300), txn_charge("pi_c", 1000, 50)]

    differences, totals = reconcile(ledger, stripe, START, END)

    assert sorted((d.reference, d.kind, d.difference_cents) for d in differences) == [
        ("pi_a", DifferenceKind.AMOUNT_MISMATCH, 500),
        ("pi_b", DifferenceKind.FEE_MISMATCH, -150),
        ("pi_c", DifferenceKind.CURRENCY_MISMATCH, 0),
    ]
    assert totals.matched == 0 and totals.differences == 3


def test_given_money_recorded_across_the_periods_edge_when_reconciling_then_the_ledgers_instant_decides() -> None:
    late_webhook = START + timedelta(minutes=2)  # Stripe moved it a few minutes before the period began
    before = START - timedelta(hours=1)  # recorded in the previous period: not this one's
    ledger = [*charge("pi_in", 5000, 0, late_webhook), *charge("pi_out", 800, 0, before)]
    stripe = [txn_charge("pi_in", 5000, 0, START - timedelta(minutes=3)), txn_charge("pi_out", 800, 0, START)]

    differences, totals = reconcile(ledger, stripe, START, END)

    assert differences == []
    assert (totals.ledger_charges_cents, totals.stripe_charges_cents, totals.matched) == (5000, 5000, 1)


def test_given_payouts_when_reconciling_then_they_are_counted_but_never_a_difference() -> None:
    payout = BalanceTransaction("txn_po", "payout", -4000, "EUR", 0, 0, AT, "po_1", None)
    earlier = BalanceTransaction("txn_po0", "payout", -100, "EUR", 0, 0, START - timedelta(days=1), "po_0", None)

    differences, totals = reconcile([], [payout, earlier], START, END)

    assert differences == [] and totals.other_transactions == 1


def test_given_failures_in_the_ledger_when_reconciling_then_they_move_no_money() -> None:
    failed = LedgerEntry("decl-1", "ap1", LedgerKind.FAILURE, 900, "EUR", AT, "pi_declined")

    differences, totals = reconcile([failed], [], START, END)

    assert differences == [] and totals.ledger_charges_cents == 0


def test_given_any_mix_when_reconciling_then_the_rows_explain_both_gaps_to_the_cent() -> None:
    generator = random.Random(11)
    for _ in range(200):
        ledger: list[LedgerEntry] = []
        stripe: list[BalanceTransaction] = []
        for n in range(generator.randint(0, 12)):
            at = START + timedelta(minutes=generator.randint(-3000, 45000))
            cents, fee = generator.randint(1, 9000), generator.randint(0, 400)
            if generator.random() < 0.85:
                ledger += charge(f"pi_{n}", cents, fee, at)
            if generator.random() < 0.85:
                drift = generator.choice([0, 0, 0, 1, -50])
                stripe.append(txn_charge(f"pi_{n}", cents + drift, fee + generator.choice([0, 0, 5]), at))
            if generator.random() < 0.4:
                if generator.random() < 0.9:
                    ledger.append(refund(f"re_{n}", cents // 2, at + timedelta(minutes=5)))
                if generator.random() < 0.9:
                    stripe.append(txn_refund(f"re_{n}", cents // 2, at + timedelta(minutes=4)))

        differences, totals = reconcile(ledger, stripe, START, END)

        fee_rows = sum(d.difference_cents for d in differences if d.kind is DifferenceKind.FEE_MISMATCH)
        amount_rows = sum(d.difference_cents for d in differences if d.kind is not DifferenceKind.FEE_MISMATCH)
        ledger_net = totals.ledger_charges_cents - totals.ledger_refunds_cents
        stripe_net = totals.stripe_charges_cents - totals.stripe_refunds_cents
        assert amount_rows == ledger_net - stripe_net
        assert fee_rows == totals.ledger_fees_cents - totals.stripe_fees_cents
        assert all(START <= d.at < END for d in differences)
        assert totals.differences == len(differences)
