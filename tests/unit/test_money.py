"""One money format for mails, pages, invoices, receipts and report PDFs."""

from __future__ import annotations

import pytest

from chalicelib.domain.money import format_money, minor_digits


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (2000, "USD", "$20.00"),
        (123_456, "eur", "€1,234.56"),
        (-5_000, "EUR", "-€50.00"),
        (0, "GBP", "£0.00"),
        (5000, "JPY", "¥5,000"),
        (1_500, "KRW", "₩1,500"),
        (1_500, "KWD", "1.500 KWD"),
        (1_234, "KWD", "1.234 KWD"),
        (995, "CHF", "9.95 CHF"),
        (995, "CAD", "CA$9.95"),
        (-1, "USD", "-$0.01"),
    ],
)
def test_money_is_shown_with_the_currencys_own_decimals_and_symbol(cents: int, currency: str, shown: str) -> None:
    assert format_money(cents, currency) == shown


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_digits("USD"), minor_digits("JPY"), minor_digits("KWD"), minor_digits("XXX")) == (2, 0, 3, 2)


def test_every_place_that_shows_money_uses_the_one_function() -> None:
    from chalicelib.pages import render
    from chalicelib.services import invoice_pdf, notifications, receipts

    assert render._environment().filters["money"] is format_money
    for module in (invoice_pdf, notifications, receipts):
        assert module.format_money is format_money, module.__name__
    assert not hasattr(invoice_pdf, "money_text")
