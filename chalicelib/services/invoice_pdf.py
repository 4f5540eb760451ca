"""The invoice PDF: fpdf2 with bundled Unicode fonts, A4 or Letter, in the tenant's colour.

Lambda has no system fonts, so the TTFs live in `chalicelib/fonts` (see its README for
their licences): DejaVu Sans for Latin, Greek, Cyrillic and the currency signs, and Droid
Sans Fallback (Apache 2.0) for the CJK glyphs DejaVu lacks, used by fpdf2 only where
DejaVu has no glyph. fpdf2 embeds only the glyphs a document uses. The creation date is the
issue instant, so rendering the same document twice gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.domain.invoices import Invoice, InvoiceKind, require_complete, tax_by_rate
from chalicelib.domain.money import format_money
from chalicelib.services.mail_content import DEFAULT_PRIMARY

if TYPE_CHECKING:
    from fpdf.fonts import FontFace

FONTS = Path(__file__).resolve().parents[1] / "fonts"
PAPER = {"A4": "A4", "Letter": "letter"}


def percent_text(rate_bps: int) -> str:
    return f"{rate_bps / 100:g} %"


# Unicode blocks DejaVu Sans has no glyphs for and Droid Sans Fallback covers: CJK radicals to
# the unified ideographs (with kana and bopomofo), Hangul syllables, compatibility ideographs,
# half- and full-width forms.
_CJK_BLOCKS = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


def _needs_cjk(invoice: Invoice, brand_name: str) -> bool:
    texts = [brand_name, invoice.buyer.name, invoice.seller.legal_name, *invoice.seller.address.lines()]
    texts += [line.description for line in invoice.lines] + [p.description for p in invoice.payments]
    return any(low <= ord(ch) <= high for text in texts for ch in text for low, high in _CJK_BLOCKS)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _text_on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or black, whichever reads better on the band's colour (relative luminance)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
    return (0, 0, 0) if luminance > 0.179 else (255, 255, 255)


def render_invoice_pdf(invoice: Invoice, *, brand_name: str, colour: str | None, paper_size: str, zone: str) -> bytes:
    """The document as PDF bytes; refuses (InvoiceIncompleteError) one lacking an art. 226 field."""
    require_complete(invoice)
    from fpdf import FPDF  # ~40 ms to import: only the invoice path pays for it

    tz = ZoneInfo(zone)
    band = _rgb(colour or DEFAULT_PRIMARY)

    class InvoicePdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("body", size=8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 5, f"{invoice.number} · page {self.page_no()}/{{nb}}", align="C")

    pdf = InvoicePdf(format=PAPER[paper_size], unit="mm")
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_title(invoice.number)
    pdf.set_author(invoice.seller.legal_name)
    pdf.add_font("body", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("body", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    if _needs_cjk(invoice, brand_name):  # parsing the 3.3 MiB CJK font costs ~0.2 s: only when used
        pdf.add_font("cjk", "", str(FONTS / "DroidSansFallback.ttf"))
        pdf.set_fallback_fonts(["cjk"], exact_match=False)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    # band: the business's name in its colour, the document's title and number
    pdf.set_fill_color(*band)
    pdf.set_text_color(*_text_on(band))
    pdf.rect(0, 0, pdf.w, 28, style="F")
    pdf.set_xy(pdf.l_margin, 8)
    pdf.set_font("body", "B", 16)
    pdf.cell(pdf.epw / 2, 8, brand_name)
    title = "Invoice" if invoice.kind is InvoiceKind.INVOICE else "Credit note"
    pdf.set_font("body", "B", 13)
    pdf.cell(pdf.epw / 2, 8, f"{title} {invoice.number}", align="R")
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, 34)

    # seller and buyer side by side, then the dates
    seller = [invoice.seller.legal_name, *invoice.seller.address.lines(), f"VAT ID: {invoice.seller.tax_id}"]
    buyer = [invoice.buyer.name, invoice.buyer.email]
    top = pdf.get_y()
    pdf.set_font("body", "B", 9)
    pdf.cell(pdf.epw / 2, 5, "From", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", "", 9)
    for text in seller:
        pdf.cell(pdf.epw / 2, 5, text, new_x="LMARGIN", new_y="NEXT")
    after_seller = pdf.get_y()
    pdf.set_xy(pdf.l_margin + pdf.epw / 2, top)
    pdf.set_font("body", "B", 9)
    pdf.cell(pdf.epw / 2, 5, "Bill to", new_x="LEFT", new_y="NEXT")
    pdf.set_font("body", "", 9)
    for text in buyer:
        pdf.cell(pdf.epw / 2, 5, text, new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(after_seller, pdf.get_y()) + 4)
    facts = [
        ("Number", invoice.number),
        ("Issue date", invoice.issued_at.astimezone(tz).date().isoformat()),
        ("Service date", invoice.supplied_on.isoformat()),
    ]
    if invoice.refers_to_number:
        facts.append(("Corrects invoice", invoice.refers_to_number))
    for label, value in facts:
        pdf.set_font("body", "B", 9)
        pdf.cell(35, 5, label)
        pdf.set_font("body", "", 9)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    # the lines: a table whose headings repeat on every page it spans
    currency = invoice.currency
    pdf.set_font("body", "", 9)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(200, 200, 200)
    with pdf.table(
        col_widths=(80, 15, 30, 20, 30),
        borders_layout="HORIZONTAL_LINES",
        cell_fill_color=(244, 244, 245),
        cell_fill_mode="ROWS",
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=_headings(band),
        repeat_headings=1,
        line_height=6,
    ) as table:
        table.row(["Description", "Qty", "Unit price", "Tax", "Amount"])
        for line in invoice.lines:
            table.row(
                [
                    line.description,
                    str(line.quantity),
                    format_money(line.unit_amount_cents, currency),
                    percent_text(line.tax_rate_bps),
                    format_money(line.amount_cents, currency),
                ]
            )
    pdf.ln(3)

    # totals, the tax per rate, what was paid and what is due
    included = invoice.prices_include_tax
    rows: list[tuple[str, str, bool]] = [
        ("Subtotal" + (" (incl. tax)" if included else ""), format_money(invoice.subtotal_cents, currency), False),
    ]
    for rate, taxable, tax in tax_by_rate(invoice):
        rows.append((f"Taxable at {percent_text(rate)}", format_money(taxable, currency), False))
        rows.append(
            (f"Tax {percent_text(rate)}" + (" included" if included else ""), format_money(tax, currency), False)
        )
    rows.append(("Total", format_money(invoice.total_cents, currency), True))
    for payment in invoice.payments:
        when = payment.paid_at.astimezone(tz).date().isoformat()
        rows.append((f"{payment.description} ({when})", format_money(payment.amount_cents, currency), False))
    if invoice.kind is InvoiceKind.INVOICE:
        rows.append(("Amount due", format_money(invoice.amount_due_cents, currency), True))
    for label, value, bold in rows:
        if pdf.will_page_break(6):
            pdf.add_page()
        pdf.set_font("body", "B" if bold else "", 9)
        pdf.set_x(pdf.l_margin + pdf.epw - 100)
        pdf.cell(65, 6, label, align="R")
        pdf.cell(35, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _headings(band: tuple[int, int, int]) -> FontFace:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", color=_text_on(band), fill_color=band)
