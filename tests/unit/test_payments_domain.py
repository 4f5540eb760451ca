"""Refund policy arithmetic, payment status and fees (issue 5's table of cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.appointments import PaymentStatus
from chalicelib.domain.catalog import CancellationPolicy, PolicyTier
from chalicelib.domain.payments import (
    LedgerEntry,
    LedgerKind,
    application_fee,
    payment_status,
    policy_refund,
    refund_percent,
    totals,
)

START = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
TIERED = CancellationPolicy((PolicyTier(48, 100), PolicyTier(24, 50), PolicyTier(0, 0)))


@pytest.mark.parametrize(
    ("notice", "percent"),
    [
        (timedelta(days=10), 100),
        (timedelta(hours=48), 100),  # exactly 48 h 00 min counts as 48 h
        (timedelta(hours=48) - timedelta(seconds=1), 50),
        (timedelta(hours=24), 50),  # exactly 24 h 00 min counts as 24 h
        (timedelta(hours=24) - timedelta(microseconds=1), 0),
        (timedelta(minutes=1), 0),
        (timedelta(0), 0),
        (-timedelta(hours=1), 0),  # after the start: no tier reaches
    ],
)
def test_the_tier_is_the_largest_notice_reached_at_the_moment_of_cancelling(notice: timedelta, percent: int) -> None:
    assert refund_percent(TIERED, START, START - notice) == percent


def test_no_policy_refunds_in_full() -> None:
    assert refund_percent(None, START, START - timedelta(minutes=5)) == 100


def test_a_policy_without_a_zero_hour_tier_refunds_nothing_inside_its_last_tier() -> None:
    policy = CancellationPolicy((PolicyTier(24, 100),))
    assert refund_percent(policy, START, START - timedelta(hours=23)) == 0


@pytest.mark.parametrize(
    ("paid", "refunded", "percent", "refund"),
    [
        (2000, 0, 100, 2000),
        (2000, 0, 50, 1000),
        (2000, 0, 0, 0),
        (999, 0, 50, 499),  # rounds down: never more than the policy says
        (2000, 500, 50, 500),  # half of what was paid, less what was already refunded
        (2000, 1000, 50, 0),  # an earlier partial refund already covered the policy
        (2000, 1500, 100, 500),  # never more than what remains
        (2000, 2000, 100, 0),
        (0, 0, 100, 0),
    ],
)
def test_policy_refunds_follow_the_table(paid: int, refunded: int, percent: int, refund: int) -> None:
    assert policy_refund(paid, refunded, percent) == refund


@pytest.mark.parametrize(
    ("price", "paid", "refunded", "status"),
    [
        (5000, 0, 0, PaymentStatus.NONE),
        (5000, 2000, 0, PaymentStatus.DEPOSIT_PAID),
        (5000, 5000, 0, PaymentStatus.PAID),
        (5000, 5000, 1000, PaymentStatus.PARTIALLY_REFUNDED),
        (5000, 2000, 2000, PaymentStatus.REFUNDED),
    ],
)
def test_payment_status_derives_from_what_was_paid_and_refunded(
    price: int, paid: int, refunded: int, status: PaymentStatus
) -> None:
    assert payment_status(price, paid, refunded) is status


def test_totals_count_charges_and_refunds_only() -> None:
    def entry(kind: LedgerKind, amount: int) -> LedgerEntry:
        return LedgerEntry("e", "apt", kind, amount, "USD", START)

    entries = [
        entry(LedgerKind.CHARGE, 2000),
        entry(LedgerKind.APPLICATION_FEE, 60),
        entry(LedgerKind.REFUND, 500),
        entry(LedgerKind.FAILURE, 3000),
        entry(LedgerKind.CHARGE, 3000),
    ]

    assert totals(entries) == (5000, 500)


def test_the_application_fee_is_basis_points_rounded_down() -> None:
    assert application_fee(2000, 250) == 50
    assert application_fee(999, 250) == 24
    assert application_fee(2000, 0) == 0
