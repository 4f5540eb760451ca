"""Issue 11 items 2 and 4 on the API: a credit note for every refund of an invoiced
appointment (admin refund, policy refund at cancellation, refund of a late payment), its own
series, never more than is left, and a receipt mail after every payment and every refund.

Refunds run as on AWS: the request's stream record enqueues it, the worker asks the fake
Stripe and completes it, and the completed refund's ledger entry, read from the stream again,
issues the credit note and the receipt (tests/api/payments_support.py `Refunding`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from chalicelib.store.models import LedgerItem
from chalicelib.store.stream import TableChange
from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import TIERED_POLICY, Refunding, manage_token_from_mail, paid

TEN = local(MONDAY, "10:00")
PRICE = 10_000
SELLER = {
    "legalName": "Acme Wellness LLC",
    "address": {"line1": "1 Main St", "city": "New York", "postalCode": "10001", "country": "US"},
    "taxId": "US-12-3456789",
    "taxRateBps": 800,
}


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    shop = Shop(api, tenant)
    shop.settings(**SELLER)
    return shop


@pytest.fixture
def facial(shop: Shop) -> dict[str, Any]:
    service = shop.service(
        name="Facial",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=PRICE,
        depositCents=2_000,
        cancellationPolicy=TIERED_POLICY,
    )
    shop.provider([service], name="Dana")
    return service


@pytest.fixture
def refunding(aws: str) -> Refunding:
    return Refunding(aws)


def paid_in_full(shop: Shop, service: dict[str, Any], who: str = "Ann") -> str:
    booked = shop.booked(service, TEN, payment="full", client=client(who))
    assert paid(shop, booked)["outcome"] == "confirmed"
    return str(booked["appointment"]["id"])


def invoice(shop: Shop, appointment_id: str) -> dict[str, Any]:
    status, body = shop.api.call("POST", f"/v1/admin/appointments/{appointment_id}/invoice", {}, key=shop.key)
    assert status in (200, 201), body
    return dict(body)


def documents(shop: Shop, kind: str | None = None) -> list[dict[str, Any]]:
    query = "from=2027-01-01&to=2027-12-31&limit=200" + (f"&kind={kind}" if kind else "")
    status, body = shop.api.call("GET", f"/v1/admin/invoices?{query}", key=shop.key)
    assert status == 200, body
    return list(body["items"])


def refund(shop: Shop, appointment_id: str, amount: int | None = None) -> None:
    status, body = shop.admin("POST", f"/{appointment_id}/refunds", {"amountCents": amount} if amount else {})
    assert status == 201, body


def kept_by_the_ledger(shop: Shop, appointment_id: str) -> int:
    status, body = shop.admin("GET", f"/{appointment_id}/payments")
    assert status == 200, body
    return int(body["totals"]["paidCents"]) - int(body["totals"]["refundedCents"])


def test_each_admin_refund_issues_a_credit_note_and_the_documents_add_up_to_what_was_kept(
    shop: Shop, facial: dict, refunding: Refunding
) -> None:
    # GIVEN an appointment paid in full and invoiced
    appointment_id = paid_in_full(shop, facial)
    refunding.run()
    issued = invoice(shop, appointment_id)

    # WHEN the business refunds 30.00, then 25.50
    refund(shop, appointment_id, 3_000)
    refunding.run()
    refund(shop, appointment_id, 2_550)
    refunding.run()

    # THEN two credit notes in their own series, negative, referring to the invoice
    notes = sorted(documents(shop, "credit_note"), key=lambda d: d["number"])
    assert [n["number"] for n in notes] == ["CN-2027-0001", "CN-2027-0002"]
    assert [n["totalCents"] for n in notes] == [-3_000, -2_550]
    assert all(n["refersTo"] == issued["id"] and n["appointmentId"] == appointment_id for n in notes)
    # 8 % included: the tax inside 30.00 is 30.00 * 0.08 / 1.08 = 2.22
    assert (notes[0]["taxCents"], notes[0]["lines"][0]["amountCents"]) == (-222, -3_000)
    # AND invoices minus credit notes is what the ledger says the business kept, to the cent
    total = sum(d["totalCents"] for d in documents(shop))
    assert total == kept_by_the_ledger(shop, appointment_id) == PRICE - 3_000 - 2_550


def test_a_cancellation_under_the_policy_issues_its_credit_note(
    shop: Shop, facial: dict, refunding: Refunding, mail: InMemoryMailGateway
) -> None:
    appointment_id = paid_in_full(shop, facial)
    refunding.run()
    issued = invoice(shop, appointment_id)
    token = manage_token_from_mail(mail.sent, "confirmation", "ann@example.test")

    # WHEN the client cancels 30 h before: the policy gives half back
    freeze(from_iso(TEN) - timedelta(hours=30))
    status, body = shop.public("POST", appointment_id, "cancel", {"token": token})
    assert status == 200, body
    refunding.run()

    [note] = documents(shop, "credit_note")
    assert (note["totalCents"], note["refersTo"]) == (-PRICE // 2, issued["id"])
    assert sum(d["totalCents"] for d in documents(shop)) == kept_by_the_ledger(shop, appointment_id) == PRICE // 2


def test_refunds_made_before_the_invoice_are_credited_when_it_is_issued(
    shop: Shop, facial: dict, refunding: Refunding
) -> None:
    appointment_id = paid_in_full(shop, facial)
    refund(shop, appointment_id, 1_000)
    refunding.run()
    assert documents(shop) == []  # nothing invoiced: no credit note

    issued = invoice(shop, appointment_id)

    [note] = documents(shop, "credit_note")
    assert (note["totalCents"], note["refersTo"]) == (-1_000, issued["id"])
    assert sum(d["totalCents"] for d in documents(shop)) == kept_by_the_ledger(shop, appointment_id)


def test_a_redelivered_refund_record_issues_no_second_credit_note_or_receipt(
    shop: Shop, facial: dict, refunding: Refunding, mail: InMemoryMailGateway
) -> None:
    appointment_id = paid_in_full(shop, facial)
    refunding.run()
    invoice(shop, appointment_id)
    refund(shop, appointment_id, 4_000)
    refunding.run()
    receipts_before = [m for m in mail.sent if m.tags.get("kind") == "receipt-refund"]

    # WHEN the refund's ledger record reaches the dispatcher again (stream redelivery)
    [entry] = [
        e for e in LedgerItem.query(f"T#{shop.tenant['tenant']['id']}#APPT#{appointment_id}") if e.kind == "refund"
    ]
    image = {
        name: getattr(entry, name) for name in ("entry_id", "appointment_id", "kind", "amount_cents", "currency", "at")
    }
    change = TableChange("again", "INSERT", "1", shop.tenant["tenant"]["id"], "LedgerEntry", None, image)
    registry.dispatcher().handle(change)
    registry.dispatcher().handle(change)

    # THEN still one credit note and one refund receipt
    assert len(documents(shop, "credit_note")) == 1
    assert len(receipts_before) == 1
    assert len([m for m in mail.sent if m.tags.get("kind") == "receipt-refund"]) == 1


def test_a_receipt_follows_every_payment_and_every_refund_once(
    shop: Shop, facial: dict, refunding: Refunding, mail: InMemoryMailGateway
) -> None:
    # GIVEN a deposit paid, then the balance charged to the saved card, then a refund
    booked = shop.booked(facial, TEN, payment="deposit", client=client("Ann"))
    assert paid(shop, booked)["outcome"] == "confirmed"
    appointment_id = booked["appointment"]["id"]
    refunding.run()
    status, body = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})
    assert status == 200, body
    refunding.run()
    refund(shop, appointment_id, 500)
    refunding.run()
    refunding.run()  # nothing new: no mail again

    payments = [m for m in mail.sent if m.tags.get("kind") == "receipt-payment"]
    refunds = [m for m in mail.sent if m.tags.get("kind") == "receipt-refund"]
    assert len(payments) == 2
    assert len(refunds) == 1
    assert {m.recipient for m in payments + refunds} == {"ann@example.test"}
    assert b"20.00" in payments[0].raw or b"20.00" in payments[1].raw
    assert b"5.00" in refunds[0].raw


def deposit_paid(shop: Shop, service: dict[str, Any]) -> str:
    booked = shop.booked(service, TEN, payment="deposit", client=client("Ann"))
    assert paid(shop, booked)["outcome"] == "confirmed"
    return str(booked["appointment"]["id"])


def cancel(shop: Shop, appointment_id: str, refund: str) -> None:
    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"refund": refund})
    assert status == 200, body


def test_a_cancelled_invoice_with_a_balance_due_gets_a_credit_note_for_what_will_never_be_collected(
    shop: Shop, facial: dict, refunding: Refunding
) -> None:
    # GIVEN a deposit of 20.00 paid on a 100.00 facial, invoiced with 80.00 due
    appointment_id = deposit_paid(shop, facial)
    refunding.run()
    issued = invoice(shop, appointment_id)
    assert issued["amountDueCents"] == PRICE - 2_000

    # WHEN the business cancels and keeps the deposit
    cancel(shop, appointment_id, "none")
    refunding.run()
    for _ in range(2):  # what a redelivered cancellation record does: nothing new
        assert registry.invoicing().credit_uncollected(shop.tenant["tenant"]["id"], appointment_id) is not None

    # THEN one credit note takes back the 80.00 never collected, and the documents add up to the deposit
    [note] = documents(shop, "credit_note")
    assert (note["totalCents"], note["refersTo"], note["amountDueCents"]) == (-(PRICE - 2_000), issued["id"], 0)
    assert note["lines"][0]["description"].startswith("Cancelled, not collected: Facial")
    assert sum(d["totalCents"] for d in documents(shop)) == kept_by_the_ledger(shop, appointment_id) == 2_000


def test_a_cancellation_that_refunds_the_deposit_credits_both_the_refund_and_the_balance(
    shop: Shop, facial: dict, refunding: Refunding
) -> None:
    appointment_id = deposit_paid(shop, facial)
    refunding.run()
    invoice(shop, appointment_id)

    cancel(shop, appointment_id, "full")
    refunding.run()

    notes = sorted(d["totalCents"] for d in documents(shop, "credit_note"))
    assert notes == [-(PRICE - 2_000), -2_000]
    assert sum(d["totalCents"] for d in documents(shop)) == kept_by_the_ledger(shop, appointment_id) == 0


def test_a_cancelled_invoice_paid_in_full_gets_no_credit_note_for_a_balance(
    shop: Shop, facial: dict, refunding: Refunding
) -> None:
    appointment_id = paid_in_full(shop, facial)
    refunding.run()
    invoice(shop, appointment_id)

    cancel(shop, appointment_id, "none")
    refunding.run()

    assert documents(shop, "credit_note") == []
    assert sum(d["totalCents"] for d in documents(shop)) == kept_by_the_ledger(shop, appointment_id) == PRICE
