"""Reconciliation on the API: a fortnight's ledger against the fake Stripe's balance transactions.

The money is real: Checkout on the fake, its signed webhook, the refund through the stream and
the refunds queue. Differences are made the way they happen: a refund given in Stripe's
dashboard (Stripe knows it, the ledger does not) and a ledger line without a Stripe payment.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import TIERED_POLICY, Refunding, paid

PRICE, DEPOSIT = 10_000, 2_000
REFUNDED_AT = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)
RANGE = "from=2027-03-01&to=2027-03-14"


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway, aws: str) -> Shop:
    """Ann pays a deposit and cancels with a full refund; Bob pays in full."""
    freeze(NOW)
    shop = Shop(api, tenant)
    facial = shop.service(
        name="Facial", durationMinutes=60, priceCents=PRICE, depositCents=DEPOSIT, cancellationPolicy=TIERED_POLICY
    )
    shop.provider([facial])
    ann = shop.booked(facial, local(MONDAY, "10:00"), payment="deposit", client=client("Ann"))
    paid(shop, ann)
    bob = shop.booked(facial, local(MONDAY, "12:00"), payment="full", client=client("Bob"))
    paid(shop, bob)
    freeze(REFUNDED_AT)
    status, body = shop.admin("POST", f"/{ann['appointment']['id']}/cancel", {"refund": "full"})
    assert status == 200, body
    refunding = Refunding(aws)
    refunding.run()
    assert refunding.failures() == []
    shop.tenant["bob"] = bob["appointment"]["id"]
    return shop


def reconcile(shop: Shop, query: str = RANGE) -> tuple[int, Any]:
    return shop.api.call("GET", f"/v1/admin/reports/reconciliation?{query}", key=shop.key)


def test_given_the_ledger_and_stripe_agree_when_reconciling_then_no_difference_and_equal_totals(shop: Shop) -> None:
    status, body = reconcile(shop)

    assert status == 200, body
    assert (body["report"], body["from"], body["to"], body["currency"]) == (
        "reconciliation",
        "2027-03-01",
        "2027-03-14",
        "USD",
    )
    assert body["rows"] == []
    totals = body["totals"]
    assert totals["ledgerChargesCents"] == totals["stripeChargesCents"] == DEPOSIT + PRICE
    assert totals["ledgerRefundsCents"] == totals["stripeRefundsCents"] == DEPOSIT
    assert totals["ledgerFeesCents"] == totals["stripeFeesCents"]
    assert (totals["matched"], totals["differences"], totals["otherTransactions"]) == (3, 0, 0)


def test_given_a_refund_made_in_stripe_and_a_ledger_line_stripe_never_saw_then_both_are_listed(shop: Shop) -> None:
    account = shop.tenant["stripeAccountId"]
    bob = shop.tenant["bob"]
    money = shop.api.call("GET", f"/v1/admin/appointments/{bob}/payments", key=shop.key)[1]
    intent = next(e["stripeId"] for e in money["items"] if e["kind"] == "charge")
    outside = registry.payment_gateway().refund(account, intent, 1_500, {}, idempotency_key="dashboard-refund")
    stray = LedgerEntry("ch-manual", bob, LedgerKind.CHARGE, 700, "USD", REFUNDED_AT, None, "entered by hand")
    registry.payment_repository().record_entry(shop.tenant["tenant"]["id"], stray)

    status, body = reconcile(shop)

    assert status == 200, body
    rows = {(row["kind"], row["reference"]): row for row in body["rows"]}
    assert set(rows) == {("missing_in_ledger", outside.id), ("missing_in_stripe", "ch-manual")}
    dashboard = rows["missing_in_ledger", outside.id]
    assert (dashboard["ledgerCents"], dashboard["stripeCents"], dashboard["differenceCents"]) == (0, -1_500, 1_500)
    assert dashboard["appointmentId"] is None and dashboard["balanceTransactionId"].startswith("txn_")
    by_hand = rows["missing_in_stripe", "ch-manual"]
    assert (by_hand["appointmentId"], by_hand["differenceCents"], by_hand["balanceTransactionId"]) == (bob, 700, None)
    totals = body["totals"]
    gap = (totals["ledgerChargesCents"] - totals["ledgerRefundsCents"]) - (
        totals["stripeChargesCents"] - totals["stripeRefundsCents"]
    )
    assert gap == sum(row["differenceCents"] for row in body["rows"]) == 700 + 1_500
    assert (totals["matched"], totals["differences"]) == (3, 2)


def test_given_a_range_before_the_money_moved_when_reconciling_then_it_is_empty(shop: Shop) -> None:
    status, body = reconcile(shop, "from=2027-02-01&to=2027-02-20")

    assert status == 200, body
    assert body["rows"] == [] and body["totals"]["stripeChargesCents"] == body["totals"]["matched"] == 0


def test_given_differences_when_downloading_csv_then_one_line_each_and_amounts_stay_numbers(shop: Shop) -> None:
    stray = LedgerEntry("ch-manual", shop.tenant["bob"], LedgerKind.CHARGE, 700, "USD", REFUNDED_AT, None, "x")
    registry.payment_repository().record_entry(shop.tenant["tenant"]["id"], stray)
    headers = {"Authorization": f"Bearer {shop.key}", "Accept": "text/csv"}

    response = shop.api.client.http.get(f"/v1/admin/reports/reconciliation?{RANGE}&format=csv", headers=headers)

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    header, *lines = list(csv.reader(io.StringIO(response.body.decode())))
    assert header[:3] == ["kind", "reference", "appointmentId"] and "differenceCents" in header
    assert [line[:2] for line in lines] == [["missing_in_stripe", "ch-manual"]]
    assert lines[0][header.index("differenceCents")] == "700"
    headers["Accept"] = "application/pdf"
    pdf = shop.api.client.http.get(f"/v1/admin/reports/reconciliation?{RANGE}&format=pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF")


def test_given_stripe_failing_when_reconciling_then_503_and_nothing_is_guessed(shop: Shop) -> None:
    error = {"type": "api_error", "message": "boom"}
    shop.api.stripe.fail_next("GET", "/v1/balance_transactions", 500, error, times=5)

    status, body = reconcile(shop)

    assert status == 503, body
    assert body["error"]["code"] == "upstream_unavailable"


def test_given_a_business_without_stripe_when_reconciling_then_422_payments_not_configured(api: Api) -> None:
    freeze(NOW)
    free = api.open_tenant("freeshop", payments=False)

    status, body = api.call("GET", f"/v1/admin/reports/reconciliation?{RANGE}", key=free["secretKey"])

    assert status == 422, body
    assert body["error"]["code"] == "payments_not_configured"


def test_given_another_tenants_money_when_reconciling_then_it_is_not_listed(shop: Shop, api: Api) -> None:
    other = Shop(api, api.open_tenant("globex"))
    service = other.service(name="Cut", durationMinutes=60, priceCents=3_000, depositCents=1_000)
    other.provider([service])
    paid(other, other.booked(service, local(MONDAY, "10:00"), payment="full"))

    mine, theirs = reconcile(shop)[1], reconcile(other)[1]

    assert mine["totals"]["stripeChargesCents"] == DEPOSIT + PRICE and mine["rows"] == []
    assert theirs["totals"]["stripeChargesCents"] == 3_000 and theirs["rows"] == []
