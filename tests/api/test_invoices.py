"""Issue 11 (invoices) on the API: one invoice per appointment, its PDF in the private bucket
with its digest, the presigned link, the mail with the PDF attached, the list by issue date,
and the refusals (incomplete seller, an appointment that cannot be invoiced, another tenant)."""

from __future__ import annotations

import hashlib
import urllib.request
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from chalicelib.gateways.mail import InMemoryMailGateway
from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import paid
from tests.pdf_text import pdf_text

TEN = local(MONDAY, "10:00")
ELEVEN = local(MONDAY, "11:00")
PRICE, DEPOSIT = 11_900, 2_000
SELLER = {
    "currency": "EUR",
    "legalName": "Acme Wellness GmbH",
    "address": {"line1": "Hauptstraße 1", "city": "Berlin", "postalCode": "10115", "country": "DE"},
    "taxId": "DE123456789",
    "taxRateBps": 1900,
    "branding": {"primaryColor": "#0F766E"},
}
CLIENT = client("Анна Петрова", "anna@example.test")


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    shop = Shop(api, tenant)
    shop.settings(**SELLER)
    return shop


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    service = shop.service(
        name="Massage 按摩 マッサージ",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=PRICE,
        depositCents=DEPOSIT,
    )
    shop.provider([service], name="Dana")
    return service


def deposit_paid(shop: Shop, service: dict[str, Any], start: str = TEN) -> str:
    booked = shop.booked(service, start, payment="deposit", client=CLIENT)
    assert paid(shop, booked)["outcome"] == "confirmed"
    return str(booked["appointment"]["id"])


def invoice_for(shop: Shop, appointment_id: str) -> tuple[int, Any]:
    return shop.api.call("POST", f"/v1/admin/appointments/{appointment_id}/invoice", {}, key=shop.key)


def fetch(url: str) -> bytes:
    """The presigned link, fetched with no credentials at all."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def test_the_first_request_issues_the_invoice_and_later_ones_answer_the_same(shop: Shop, massage: dict) -> None:
    appointment_id = deposit_paid(shop, massage)

    first_status, first = invoice_for(shop, appointment_id)
    again_status, again = invoice_for(shop, appointment_id)

    assert (first_status, again_status) == (201, 200), (first, again)
    assert again == first
    assert first["number"] == "INV-2027-0001"
    assert (first["kind"], first["refersTo"], first["appointmentId"]) == ("invoice", None, appointment_id)
    assert first["seller"]["legalName"] == "Acme Wellness GmbH"
    assert first["buyer"] == {"name": "Анна Петрова", "email": "anna@example.test"}


def test_the_invoice_adds_up_to_the_cent_with_the_tax_inside_the_price(shop: Shop, massage: dict) -> None:
    _, invoice = invoice_for(shop, deposit_paid(shop, massage))

    # 119.00 incl. 19 %: 19.00 tax; the 20.00 deposit was paid, 99.00 is due
    [line] = invoice["lines"]
    assert (line["quantity"], line["unitAmountCents"], line["amountCents"]) == (1, PRICE, PRICE)
    assert (line["taxRateBps"], line["taxCents"]) == (1900, 1_900)
    assert (invoice["subtotalCents"], invoice["taxCents"], invoice["totalCents"]) == (PRICE, 1_900, PRICE)
    assert (invoice["amountPaidCents"], invoice["amountDueCents"], invoice["status"]) == (DEPOSIT, 9_900, "issued")
    assert [(p["description"], p["amountCents"]) for p in invoice["payments"]] == [("Deposit paid", DEPOSIT)]
    assert invoice["currency"] == "EUR"


def test_prices_excluding_tax_add_it_on_top(shop: Shop, massage: dict) -> None:
    shop.settings(pricesIncludeTax=False)

    _, invoice = invoice_for(shop, deposit_paid(shop, massage))

    # 119.00 + 19 % = 22.61 tax, 141.61 total
    assert (invoice["subtotalCents"], invoice["taxCents"], invoice["totalCents"]) == (PRICE, 2_261, 14_161)
    assert invoice["amountDueCents"] == 14_161 - DEPOSIT


def test_the_pdf_is_stored_once_with_its_digest_and_served_by_a_presigned_link(shop: Shop, massage: dict) -> None:
    _, invoice = invoice_for(shop, deposit_paid(shop, massage))

    status, read = shop.api.call("GET", f"/v1/admin/invoices/{invoice['id']}", key=shop.key)
    _, read_again = shop.api.call("GET", f"/v1/admin/invoices/{invoice['id']}", key=shop.key)
    pdf = fetch(read["pdfUrl"])

    assert status == 200, read
    assert "X-Amz-Expires=900" in read["pdfUrl"]
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == read["pdfSha256"] == invoice["pdfSha256"]
    assert read_again["pdfSha256"] == read["pdfSha256"]  # served from the bucket, never rendered again
    text = pdf_text(pdf)
    for expected in (
        "INV-2027-0001",
        "Acme Wellness GmbH",
        "Hauptstraße 1",
        "VAT ID: DE123456789",
        "Анна Петрова",
        "Massage 按摩 マッサージ, 2027-03-15 10:00",
        "€119.00",
        "€19.00",
        "€20.00",
        "€99.00",
        "Amount due",
    ):
        assert expected in text, expected


def test_an_invoice_is_refused_naming_the_missing_seller_field_and_takes_no_number(shop: Shop, massage: dict) -> None:
    appointment_id = deposit_paid(shop, massage)
    shop.settings(taxId="")

    status, body = invoice_for(shop, appointment_id)
    shop.settings(taxId="DE123456789")
    _, issued = invoice_for(shop, appointment_id)

    assert status == 422, body
    assert body["error"]["code"] == "invoice_incomplete"
    assert body["error"]["details"]["missing"] == ["seller.taxId"]
    assert "seller.taxId" in body["error"]["message"]
    assert issued["number"] == "INV-2027-0001"  # the refusal used no number


def test_a_pending_or_cancelled_appointment_gets_no_invoice(shop: Shop, massage: dict) -> None:
    pending = shop.booked(massage, ELEVEN, payment="deposit", client=CLIENT)["appointment"]["id"]

    status, body = invoice_for(shop, pending)

    assert status == 422, body
    assert body["error"]["code"] == "not_invoiceable"


def test_another_tenants_appointment_and_invoice_are_404(
    shop: Shop, massage: dict, api: Api, other_tenant: dict[str, Any]
) -> None:
    appointment_id = deposit_paid(shop, massage)
    _, invoice = invoice_for(shop, appointment_id)
    other = other_tenant["secretKey"]

    create = api.call("POST", f"/v1/admin/appointments/{appointment_id}/invoice", {}, key=other)
    read = api.call("GET", f"/v1/admin/invoices/{invoice['id']}", key=other)
    send = api.call("POST", f"/v1/admin/invoices/{invoice['id']}/send", {}, key=other)

    assert [create[0], read[0], send[0]] == [404, 404, 404]


def test_sending_mails_the_stored_pdf_as_an_attachment(shop: Shop, massage: dict, mail: InMemoryMailGateway) -> None:
    _, invoice = invoice_for(shop, deposit_paid(shop, massage))
    before = len(mail.sent)

    status, body = shop.api.call("POST", f"/v1/admin/invoices/{invoice['id']}/send", {}, key=shop.key)

    assert status == 202, body
    assert (body["sentTo"], body["outcome"]) == ("anna@example.test", "sent")
    [sent] = mail.sent[before:]
    message = message_from_bytes(sent.raw, policy=default)
    assert isinstance(message, EmailMessage)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "INV-2027-0001.pdf"
    data = attachment.get_content()
    assert hashlib.sha256(data).hexdigest() == invoice["pdfSha256"]
    assert "INV-2027-0001" in str(message["Subject"])


def test_the_list_pages_by_issue_date_and_filters_by_kind(shop: Shop, massage: dict) -> None:
    first = invoice_for(shop, deposit_paid(shop, massage, TEN))[1]
    second = invoice_for(shop, deposit_paid(shop, massage, ELEVEN))[1]

    status, page = shop.api.call("GET", "/v1/admin/invoices?from=2027-02-01&to=2027-03-31&limit=1", key=shop.key)
    _, rest = shop.api.call(
        "GET", f"/v1/admin/invoices?from=2027-02-01&to=2027-03-31&limit=1&cursor={page['nextCursor']}", key=shop.key
    )
    _, notes = shop.api.call("GET", "/v1/admin/invoices?from=2027-02-01&to=2027-03-31&kind=credit_note", key=shop.key)
    _, before = shop.api.call("GET", "/v1/admin/invoices?from=2027-01-01&to=2027-02-28", key=shop.key)

    assert status == 200, page
    ids = [item["id"] for item in page["items"] + rest["items"]]
    assert sorted(ids) == sorted([first["id"], second["id"]])
    assert notes["items"] == []
    assert before["items"] == []


def test_a_balance_paid_after_the_invoice_counts_towards_it_once(shop: Shop, massage: dict, aws: str) -> None:
    from tests.api.payments_support import Refunding

    stream = Refunding(aws)
    appointment_id = deposit_paid(shop, massage)
    stream.run()
    _, issued = invoice_for(shop, appointment_id)

    # WHEN the balance is charged to the saved card and its ledger entry reaches the dispatcher
    status, body = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})
    assert status == 200, body
    stream.run()
    stream.run()

    # THEN the invoice counts it (once): nothing is due and it is paid; its document is unchanged
    _, read = shop.api.call("GET", f"/v1/admin/invoices/{issued['id']}", key=shop.key)
    assert (read["amountPaidCents"], read["amountDueCents"], read["status"]) == (PRICE, 0, "paid")
    assert [(p["description"], p["amountCents"]) for p in read["payments"]] == [
        ("Deposit paid", DEPOSIT),
        ("Balance paid", PRICE - DEPOSIT),
    ]
    assert (read["number"], read["totalCents"], read["pdfSha256"]) == (issued["number"], PRICE, issued["pdfSha256"])
