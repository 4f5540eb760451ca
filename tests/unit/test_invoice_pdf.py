"""The invoice PDF, rendered in process: what its text says (read back through the fonts'
ToUnicode maps, tests/pdf_text.py), its paper, its colour, headings repeated on every page of
a long invoice, and a refusal naming what EU VAT law would miss."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.domain.errors import InvoiceIncompleteError
from chalicelib.domain.invoices import (
    Buyer,
    Invoice,
    LineInput,
    Sale,
    Seller,
    compute_totals,
    draft_credit_note,
    draft_invoice,
)
from chalicelib.domain.money import format_money
from chalicelib.domain.tenant import Address, InvoiceSettings
from chalicelib.services.invoice_pdf import render_invoice_pdf
from tests.pdf_text import page_texts, pdf_text

ISSUED = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
SETTINGS = InvoiceSettings(
    legal_name="Acme Wellness GmbH",
    address=Address("Hauptstraße 1", "Hinterhaus", "Berlin", "10115", "", "DE"),
    tax_id="DE123456789",
)
ZONE = "Europe/Berlin"


def sample(price: int = 11_900, name: str = "Анна Петрова", service: str = "Massage 按摩 マッサージ") -> Invoice:
    sale = Sale(
        "ap_1",
        service,
        price,
        "EUR",
        date(2027, 3, 15),
        Buyer(name, "anna@example.test"),
        ((2_000, datetime(2027, 3, 1, 12, tzinfo=UTC)),),
    )
    drafted = draft_invoice(
        invoice_id="inv_1", tenant_id="tn_1", sale=sale, settings=SETTINGS, tax_rate_bps=1900, issued_at=ISSUED
    )
    return replace(drafted, number="INV-2027-0007")


def render(invoice: Invoice, paper: str = "A4", colour: str | None = "#0F766E") -> bytes:
    return render_invoice_pdf(invoice, brand_name="Acme Wellness", colour=colour, paper_size=paper, zone=ZONE)


def test_the_text_holds_number_seller_buyer_lines_and_totals_in_every_script() -> None:
    text = pdf_text(render(sample()))

    for expected in (
        "Invoice INV-2027-0007",
        "Acme Wellness GmbH",
        "Hauptstraße 1",
        "10115 Berlin",
        "VAT ID: DE123456789",
        "Анна Петрова",  # Cyrillic from DejaVu
        "Massage 按摩 マッサージ",  # CJK from the fallback font
        "Issue date",
        "2027-03-20",
        "Service date",
        "2027-03-15",
        "€119.00",  # the line and the total, with the euro sign
        "Tax 19 % included",
        "€19.00",
        "Taxable at 19 %",
        "€100.00",
        "Deposit paid (2027-03-01)",
        "€20.00",
        "Amount due",
        "€99.00",
    ):
        assert expected in text, expected


def test_a_credit_note_says_what_it_corrects_with_negative_amounts() -> None:
    note = replace(
        draft_credit_note(credit_note_id="cn_1", invoice=sample(), refunded_cents=5_000, issued_at=ISSUED, reason=""),
        number="CN-2027-0001",
    )

    text = pdf_text(render(note))

    assert "Credit note CN-2027-0001" in text
    assert "Corrects invoice" in text and "INV-2027-0007" in text
    assert "-€50.00" in text


def test_a4_and_letter_are_their_own_sizes() -> None:
    a4, letter = render(sample(), "A4"), render(sample(), "Letter")

    assert b"/MediaBox [0 0 595.28 841.89]" in a4
    assert b"/MediaBox [0 0 612.00 792.00]" in letter


def test_the_band_is_in_the_tenants_colour() -> None:
    pdf = render(sample(), colour="#0F766E")

    # #0F766E = (15, 118, 110) / 255
    assert "0.0588 0.4627 0.4314 rg" in _content(pdf)


def test_rendering_the_same_document_twice_gives_the_same_bytes() -> None:
    assert render(sample()) == render(sample())


def test_a_200_line_invoice_breaks_across_pages_and_repeats_its_headings() -> None:
    totals = compute_totals([LineInput(f"Session {n:03d}", 1, 1_000 + n, 1900) for n in range(200)], True)
    long = replace(
        sample(),
        lines=totals.lines,
        subtotal_cents=totals.subtotal_cents,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        amount_due_cents=totals.total_cents - 2_000,
    )

    pages = page_texts(render(long))

    assert len(pages) >= 4
    table_pages = [page for page in pages if "Session" in page]
    assert len(table_pages) >= 4
    for page in table_pages:
        assert all(heading in page for heading in ("Description", "Qty", "Unit price", "Tax", "Amount")), page[:200]
    text = "\n".join(pages)
    assert all(f"Session {n:03d}" in text for n in range(200))
    assert format_money(totals.total_cents, "EUR") in pages[-1]
    assert f"page {len(pages)}/{len(pages)}" in pages[-1]


def test_rendering_refuses_a_document_missing_a_required_field_and_names_it() -> None:
    incomplete = replace(sample(), seller=Seller("Acme Wellness GmbH", SETTINGS.address, ""))

    with pytest.raises(InvoiceIncompleteError) as refused:
        render(incomplete)

    assert refused.value.details["missing"] == ["seller.taxId"]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_the_pdf_renders_to_png_with_poppler(tmp_path: Path) -> None:
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render(sample()))

    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True, timeout=60)

    [png] = sorted(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5_000  # more than a blank page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_poppler_reads_the_same_text_as_the_test_reader(tmp_path: Path) -> None:
    """A check of tests/pdf_text.py itself against an independent PDF reader."""
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render(sample()))

    extracted = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()

    for line in pdf_text(pdf.read_bytes()).splitlines():
        assert line in extracted, line


def _content(pdf: bytes) -> str:
    import zlib

    streams = re.findall(rb"/FlateDecode\s*/Length \d+\s*>>\s*stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    return "\n".join(zlib.decompress(s).decode("latin-1") for s in streams)
