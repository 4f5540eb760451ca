"""A report as a one-page PDF: heading, totals, a bar chart of one column, and the rows that fit.

fpdf2 with the bundled DejaVu Sans (Lambda has no system fonts; DejaVu covers Latin, Greek
and Cyrillic names). A report with more rows than a page holds says how many were left
out and points to the CSV, which has them all: the PDF is a summary, never a second
source of figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF

FONT = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
INK, MUTED, BAR, NEGATIVE = (33, 37, 41), (96, 103, 112), (37, 99, 235), (185, 28, 28)
CHART_HEIGHT = 60.0
MAX_BARS = 31
TABLE_ROWS = 18


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field
    label: str
    money: bool = False


@dataclass(frozen=True)
class Summary:
    title: str
    subtitle: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    totals: Mapping[str, Any]
    chart_label: str  # the row field naming each bar
    chart_value: str  # the row field each bar's height shows
    currency: str


def render(summary: Summary, money: Any) -> bytes:
    """`money(cents, currency) -> str` formats amounts the way the tenant's mails do."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.set_text_color(*INK)
    pdf.cell(0, 9, summary.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, summary.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _totals(pdf, summary, money)
    _chart(pdf, summary)
    _table(pdf, summary, money)
    return bytes(pdf.output())


def _shown(value: Any, column: Column, currency: str, money: Any) -> str:
    if value is None:
        return ""
    if column.money and isinstance(value, int):
        return str(money(value, currency))
    if isinstance(value, float):
        return f"{value:.1%}" if column.key in {"utilization", "noShowRate"} else f"{value:g}"
    return str(value)


def _totals(pdf: FPDF, summary: Summary, money: Any) -> None:
    pdf.set_text_color(*INK)
    parts = []
    for column in summary.columns:
        if column.key in summary.totals:
            parts.append(f"{column.label}: {_shown(summary.totals[column.key], column, summary.currency, money)}")
    for key, value in summary.totals.items():
        if all(column.key != key for column in summary.columns):
            parts.append(f"{key}: {value}")
    pdf.multi_cell(0, 6, "   ".join(parts), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _chart(pdf: FPDF, summary: Summary) -> None:
    bars = [(str(r.get(summary.chart_label, "")), float(r.get(summary.chart_value) or 0)) for r in summary.rows]
    bars = bars[:MAX_BARS]
    left, top = pdf.l_margin, pdf.get_y()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    high, low = max([0.0, *(v for _, v in bars)]), min([0.0, *(v for _, v in bars)])
    span = (high - low) or 1.0
    baseline = top + CHART_HEIGHT * high / span
    pdf.set_draw_color(*MUTED)
    pdf.line(left, baseline, left + width, baseline)
    step = width / max(1, len(bars))
    pdf.set_font("DejaVu", size=6)
    for index, (label, value) in enumerate(bars):
        height = CHART_HEIGHT * abs(value) / span
        pdf.set_fill_color(*(BAR if value >= 0 else NEGATIVE))
        x = left + index * step + step * 0.15
        if height > 0:
            pdf.rect(x, baseline - height if value >= 0 else baseline, step * 0.7, height, style="F")
        pdf.set_xy(left + index * step, top + CHART_HEIGHT + 1)
        pdf.set_text_color(*MUTED)
        pdf.cell(step, 4, label[-10:], align="C")
    pdf.set_xy(left, top + CHART_HEIGHT + 7)


def _table(pdf: FPDF, summary: Summary, money: Any) -> None:
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / max(1, len(summary.columns))
    pdf.set_font("DejaVu", size=8)
    pdf.set_text_color(*INK)
    pdf.set_fill_color(235, 238, 242)
    for column in summary.columns:
        pdf.cell(width, 6, column.label, border="B", fill=True)
    pdf.ln()
    for row in summary.rows[:TABLE_ROWS]:
        for column in summary.columns:
            text = _shown(row.get(column.key), column, summary.currency, money)
            pdf.cell(width, 5, _fit(pdf, text, width))
        pdf.ln()
    left_out = len(summary.rows) - TABLE_ROWS
    if left_out > 0:
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 6, f"... and {left_out} more rows: the CSV of this report has every row.")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut a cell's text to its column (with an ellipsis) so a long name cannot spill over."""
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width(text + "…") > width - 1:
        text = text[:-1]
    return text + "…"
