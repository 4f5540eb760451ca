"""Invoice arithmetic with figures computed by hand, and the art. 226 field check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.errors import InvoiceIncompleteError
from chalicelib.domain.invoices import (
    Buyer,
    InvoiceStatus,
    LineInput,
    Sale,
    compute_totals,
    creditable_cents,
    draft_credit_note,
    draft_invoice,
    format_number,
    invoice_year,
    missing_fields,
    require_complete,
    round_half_away,
    tax_by_rate,
)
from chalicelib.domain.tenant import Address, InvoiceSettings

ISSUED = datetime(2027, 3, 20, 10, 0, tzinfo=UTC)
SELLER = InvoiceSettings(
    legal_name="Acme Dental GmbH",
    address=Address("Hauptstraße 1", "", "Berlin", "10115", "", "DE"),
    tax_id="DE123456789",
)


def sale(price: int, *charges: int) -> Sale:
    return Sale(
        appointment_id="ap_1",
        description="Cleaning, 60 min",
        price_cents=price,
        currency="EUR",
        supplied_on=date(2027, 3, 15),
        buyer=Buyer("Анна Петрова", "anna@example.test"),
        charges=tuple((amount, ISSUED) for amount in charges),
    )


def invoice(price: int, *charges: int, rate: int = 1900, included: bool = True):  # type: ignore[no-untyped-def]
    return draft_invoice(
        invoice_id="in_1",
        tenant_id="tn_1",
        sale=sale(price, *charges),
        settings=replace(SELLER, prices_include_tax=included),
        tax_rate_bps=rate,
        issued_at=ISSUED,
    )


def test_prices_including_19_percent_tax_hold_the_tax_inside_the_total() -> None:
    # 119.00 incl. 19 %: tax = 119.00 * 0.19 / 1.19 = 19.00 exactly
    doc = invoice(11_900)

    assert (doc.subtotal_cents, doc.tax_cents, doc.total_cents) == (11_900, 1_900, 11_900)
    assert doc.lines[0].tax_cents == 1_900
    assert tax_by_rate(doc) == [(1900, 10_000, 1_900)]


def test_included_tax_rounds_to_the_nearest_cent() -> None:
    # 100.00 incl. 19 %: 10000 * 1900 / 11900 = 1596.638... -> 15.97
    doc = invoice(10_000)

    assert (doc.subtotal_cents, doc.tax_cents, doc.total_cents) == (10_000, 1_597, 10_000)
    assert tax_by_rate(doc) == [(1900, 8_403, 1_597)]


def test_prices_excluding_tax_add_it_to_the_subtotal() -> None:
    # 100.00 + 7 % = 7.00 tax, 107.00 total; 0.10 + 7 % = 0.007 -> 0.01
    doc = invoice(10_000, rate=700, included=False)
    small = invoice(10, rate=700, included=False)

    assert (doc.subtotal_cents, doc.tax_cents, doc.total_cents) == (10_000, 700, 10_700)
    assert (small.subtotal_cents, small.tax_cents, small.total_cents) == (10, 1, 11)


def test_half_cents_round_away_from_zero_both_ways() -> None:
    assert round_half_away(5, 10) == 1
    assert round_half_away(-5, 10) == -1
    assert round_half_away(4, 10) == 0
    assert round_half_away(-15, 10) == -2


def test_line_taxes_add_up_to_the_documents_tax() -> None:
    # three lines of 0.10 at 19 % incl.: 30 * 1900 / 11900 = 4.79 -> 5 cents; each line 1.597 -> shared 2+2+1
    totals = compute_totals([LineInput(f"item {n}", 1, 10, 1900) for n in range(3)], prices_include_tax=True)

    assert totals.tax_cents == 5
    assert sorted(line.tax_cents for line in totals.lines) == [1, 2, 2]
    assert sum(line.amount_cents for line in totals.lines) == totals.subtotal_cents == 30


def test_quantity_times_unit_is_the_line_amount() -> None:
    totals = compute_totals([LineInput("Session", 3, 4_500, 0)], prices_include_tax=False)

    assert (totals.lines[0].amount_cents, totals.subtotal_cents, totals.tax_cents, totals.total_cents) == (
        13_500,
        13_500,
        0,
        13_500,
    )


def test_a_deposit_then_the_balance_are_shown_as_paid_and_nothing_is_due() -> None:
    doc = invoice(10_000, 2_000, 8_000)

    assert [(p.description, p.amount_cents) for p in doc.payments] == [("Deposit paid", 2_000), ("Balance paid", 8_000)]
    assert (doc.amount_paid_cents, doc.amount_due_cents, doc.status) == (10_000, 0, InvoiceStatus.PAID)


def test_a_deposit_alone_leaves_the_rest_due() -> None:
    doc = invoice(10_000, 2_000)

    assert (doc.amount_paid_cents, doc.amount_due_cents, doc.status) == (2_000, 8_000, InvoiceStatus.ISSUED)


def test_a_credit_note_is_minus_the_refund_with_the_tax_inside_it() -> None:
    # refund 50.00 of a 100.00 invoice at 19 % incl.: tax = -(5000 * 1900 / 11900) = -7.98
    doc = replace(invoice(10_000, 10_000), number="INV-2027-0001")

    note = draft_credit_note(credit_note_id="cn_1", invoice=doc, refunded_cents=5_000, issued_at=ISSUED, reason="")

    assert (note.subtotal_cents, note.tax_cents, note.total_cents) == (-5_000, -798, -5_000)
    assert (note.refers_to, note.refers_to_number, note.amount_due_cents) == ("in_1", "INV-2027-0001", 0)


def test_a_credit_note_on_prices_excluding_tax_still_totals_minus_the_refund() -> None:
    # refund 53.50 of 107.00 (100 + 7 %): tax inside = 5350 * 700 / 10700 = 3.50, taxable -50.00
    doc = invoice(10_000, 10_700, rate=700, included=False)

    note = draft_credit_note(credit_note_id="cn_1", invoice=doc, refunded_cents=5_350, issued_at=ISSUED, reason="")

    assert (note.subtotal_cents, note.tax_cents, note.total_cents) == (-5_000, -350, -5_350)
    assert note.subtotal_cents + note.tax_cents == note.total_cents


def test_what_is_left_to_credit_is_the_total_less_earlier_credit_notes() -> None:
    doc = invoice(10_000)

    assert creditable_cents(doc, 0) == 10_000
    assert creditable_cents(doc, 7_000) == 3_000
    assert creditable_cents(doc, 10_000) == 0


def test_numbers_have_prefix_year_and_four_digits() -> None:
    assert format_number("INV", 2027, 1) == "INV-2027-0001"
    assert format_number("CN", 2028, 64) == "CN-2028-0064"
    assert format_number("INV", 2027, 12_345) == "INV-2027-12345"


def test_the_year_is_counted_in_the_tenants_zone() -> None:
    new_year_in_berlin = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2028 there

    assert invoice_year(new_year_in_berlin, "Europe/Berlin") == 2028
    assert invoice_year(new_year_in_berlin, "America/New_York") == 2027


def test_a_complete_invoice_lacks_nothing() -> None:
    assert missing_fields(replace(invoice(10_000), number="INV-2027-0001")) == []


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        (replace(SELLER, tax_id=""), "seller.taxId"),
        (replace(SELLER, legal_name=" "), "seller.legalName"),
        (replace(SELLER, address=Address()), "seller.address.line1"),
        (replace(SELLER, address=replace(SELLER.address, country="")), "seller.address.country"),
    ],
)
def test_an_incomplete_seller_is_refused_naming_the_field(settings: InvoiceSettings, missing: str) -> None:
    doc = draft_invoice(
        invoice_id="in_1", tenant_id="tn_1", sale=sale(10_000), settings=settings, tax_rate_bps=0, issued_at=ISSUED
    )

    with pytest.raises(InvoiceIncompleteError) as refused:
        require_complete(doc, numbered=False)

    assert missing in refused.value.details["missing"]
    assert missing in str(refused.value)


def test_a_buyer_without_a_name_and_a_document_without_a_number_are_incomplete() -> None:
    doc = replace(invoice(10_000), buyer=Buyer("", "x@example.test"))

    assert missing_fields(doc) == ["number", "buyer.name"]


def test_a_later_payment_settles_what_was_due_and_keeps_the_totals() -> None:
    from chalicelib.domain.invoices import with_payment

    doc = invoice(10_000, 2_000)

    settled = with_payment(doc, 8_000, ISSUED)

    assert (settled.amount_paid_cents, settled.amount_due_cents, settled.status) == (10_000, 0, InvoiceStatus.PAID)
    assert [p.description for p in settled.payments] == ["Deposit paid", "Balance paid"]
    assert (settled.total_cents, settled.lines) == (doc.total_cents, doc.lines)
