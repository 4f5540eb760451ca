"""Report queries and answers: one range query, and one generic answer whose rows are per report.

The CSV of a report is written from the same JSON rows (`report_files`), so its header row
is these field names and nothing is described twice.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Any, ClassVar, Generic, Self, TypeVar, get_args

from pydantic import Field, PrivateAttr, model_validator

from chalicelib.api.model_types import Body, Currency, Day, File, Instant, Query, problems
from chalicelib.domain.reconciliation import DifferenceKind
from chalicelib.domain.reports import MAX_DAYS, Granularity


class ReportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


class RangeQuery(Query):
    """`from` and `to` are local dates of the tenant's zone, both inclusive."""

    first: Day = Field(alias="from", description="first local date, inclusive")
    last: Day = Field(alias="to", description=f"last local date, inclusive; at most {MAX_DAYS} days from `from`")
    format: ReportFormat = Field(ReportFormat.JSON, description="json, csv (RFC 4180) or pdf (a one-page summary)")

    @model_validator(mode="after")
    def _range_fits(self) -> Self:
        if self.last < self.first:
            raise problems({("to",): "must not be before from"})
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise problems({("to",): f"more than {MAX_DAYS} days from `from`"})
        return self


class ReportRow(Body):
    CHART: ClassVar[tuple[str, str]]  # the PDF's bars: the field naming each, the field it shows


class RevenueQuery(RangeQuery):
    granularity: Granularity = Field(Granularity.DAY, description="day, week (ISO, by its Monday) or month")


class RevenueRow(ReportRow):
    CHART: ClassVar[tuple[str, str]] = ("period", "netCents")
    period: str = Field(description="YYYY-MM-DD (a day, or a week's Monday) or YYYY-MM")
    gross_cents: int = Field(description="money charged")
    refunds_cents: int = Field(description="money refunded, a positive amount")
    fees_cents: int = Field(description="platform fees, a positive amount")
    net_cents: int = Field(description="gross - refunds - fees")
    payments: int = Field(description="number of charges")


class RevenueTotals(Body):
    gross_cents: int
    refunds_cents: int
    fees_cents: int
    net_cents: int
    payments: int


class UtilizationRow(ReportRow):
    CHART: ClassVar[tuple[str, str]] = ("providerName", "utilization")
    provider_id: str
    provider_name: str
    available_minutes: int = Field(description="working time from the same rules as availability")
    booked_minutes: int = Field(description="confirmed and completed appointments inside it")
    utilization: float = Field(ge=0, le=1, description="booked / available (0 when nothing is available)")


class UtilizationTotals(Body):
    available_minutes: int
    booked_minutes: int
    utilization: float = Field(ge=0, le=1)


class ServiceRow(ReportRow):
    CHART: ClassVar[tuple[str, str]] = ("serviceName", "bookings")
    service_id: str
    service_name: str
    bookings: int = Field(description="every appointment made, cancelled ones too")
    completed: int
    cancelled: int
    no_shows: int
    no_show_rate: float = Field(ge=0, le=1, description="no-shows / (completed + no-shows)")
    revenue_cents: int = Field(description="paid minus refunded")


class ServiceTotals(Body):
    bookings: int
    completed: int
    cancelled: int
    no_shows: int
    no_show_rate: float = Field(ge=0, le=1)
    revenue_cents: int


class ClientRow(ReportRow):
    CHART: ClassVar[tuple[str, str]] = ("name", "lifetimeValueCents")
    email: str
    name: str
    visits: int = Field(description="confirmed or completed appointments in the range")
    first_visit: Instant = Field(description="start of the client's first appointment in the range")
    last_visit: Instant = Field(description="start of the client's last appointment in the range")
    spent_cents: int = Field(description="paid for the range's appointments")
    refunded_cents: int
    lifetime_value_cents: int = Field(description="paid minus refunded, all time")


class ClientTotals(Body):
    clients: int
    visits: int
    spent_cents: int
    refunded_cents: int


class DifferenceRow(ReportRow):
    """One thing the ledger and Stripe's balance transactions disagree on."""

    CHART: ClassVar[tuple[str, str]] = ("reference", "differenceCents")
    kind: DifferenceKind = Field(
        description="missing_in_stripe, missing_in_ledger, amount_mismatch, fee_mismatch or currency_mismatch"
    )
    reference: str = Field(description="the payment intent (a charge) or refund id both sides key the money by")
    appointment_id: str | None = Field(description="the ledger's appointment; null when only Stripe knows it")
    balance_transaction_id: str | None = Field(description="Stripe's `txn_...`; null when Stripe lists none")
    at: Instant = Field(description="when the ledger recorded it (Stripe's instant when only Stripe has it)")
    ledger_cents: int = Field(description="the ledger's amount (a refund negative) or, for a fee row, its fee")
    stripe_cents: int = Field(description="the same from Stripe")
    difference_cents: int = Field(description="ledgerCents - stripeCents")
    detail: str


class ReconciliationTotals(Body):
    """Charges and refunds from both sides; the rows' `differenceCents` add up to the gap between them."""

    ledger_charges_cents: int
    stripe_charges_cents: int
    ledger_refunds_cents: int = Field(description="a positive amount")
    stripe_refunds_cents: int = Field(description="a positive amount")
    ledger_fees_cents: int = Field(description="application fees the ledger recorded")
    stripe_fees_cents: int = Field(description="application fees inside Stripe's `fee`")
    processing_fees_cents: int = Field(description="Stripe's own fees: reported, not compared (not in the ledger)")
    matched: int = Field(description="pairs on which both sides agree")
    differences: int = Field(description="the number of rows")
    other_transactions: int = Field(description="payouts, adjustments and other types: not compared")


Row = TypeVar("Row", bound=ReportRow)
Totals = TypeVar("Totals", bound=Body)


class Report(Body, Generic[Row, Totals]):
    """`Report[RevenueRow, RevenueTotals]` is published as `RevenueReport`."""

    report: str = Field(description="the report's name")
    first: Day = Field(alias="from")
    last: Day = Field(alias="to")
    currency: Currency
    rows: list[Row]
    totals: Totals

    @classmethod
    def model_parametrized_name(cls, params: tuple[type[Any], ...]) -> str:
        return params[0].__name__.removesuffix("Row") + "Report"

    _title: str = PrivateAttr("")

    @classmethod
    def build(cls, name: str, span: tuple[date, date], tenant: Any, rows: list[Any], totals: Any) -> Self:
        """The answer for the domain's rows and totals (dataclasses, read by attribute)."""
        fields = {"report": name, "first": span[0], "last": span[1], "currency": tenant.currency}
        report = cls.of(fields | {"rows": rows, "totals": totals})
        report._title = tenant.name
        return report

    @classmethod
    def row_model(cls) -> type[ReportRow]:
        row: type[ReportRow] = get_args(cls.model_fields["rows"].annotation)[0]
        return row

    def as_file(self, wanted: str) -> File:
        """The same report as CSV (every row) or a one-page PDF summary."""
        from chalicelib.api.report_files import csv_text
        from chalicelib.domain.money import format_money
        from chalicelib.services import report_pdf

        stem = f"{self.report}-{self.first}-{self.last}"
        columns = [info.alias or name for name, info in self.row_model().model_fields.items()]
        body = self.json_body()
        if ReportFormat(wanted) is ReportFormat.CSV:
            return File(csv_text(columns, body["rows"]), "text/csv; charset=utf-8", f"{stem}.csv")
        label, value = self.row_model().CHART
        summary = report_pdf.Summary(
            title=f"{self.report.capitalize()} report",
            subtitle=f"{self._title} · {self.first} to {self.last} · {self.currency}",
            columns=[report_pdf.Column(c, _words(c), c.endswith("Cents")) for c in columns],
            rows=body["rows"],
            totals=body["totals"],
            chart_label=label,
            chart_value=value,
            currency=self.currency,
        )
        return File(report_pdf.render(summary, format_money), "application/pdf", f"{stem}.pdf")


def _words(field: str) -> str:
    """`grossCents` -> "Gross": a column heading from the field name."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", field.removesuffix("Cents")).capitalize()


RevenueReport = Report[RevenueRow, RevenueTotals]
UtilizationReport = Report[UtilizationRow, UtilizationTotals]
ServiceReport = Report[ServiceRow, ServiceTotals]
ClientReport = Report[ClientRow, ClientTotals]
ReconciliationReport = Report[DifferenceRow, ReconciliationTotals]


class WaitlistRow(ReportRow):
    CHART: ClassVar[tuple[str, str]] = ("day", "filled")
    day: Day = Field(description="a local date of the tenant's zone")
    freed_slots: int = Field(description="times freed that day")
    filled: int = Field(description="of those, taken by a waitlist offer")
    offers_sent: int = Field(description="offer mails sent that day")


class WaitlistTotals(Body):
    freed_slots: int
    offered: int = Field(description="freed times offered to at least one entry")
    filled: int
    fill_rate: float = Field(ge=0, le=1, description="filled / freedSlots")
    median_minutes_to_fill: float | None = Field(description="from freeing to the accepting booking")
    offers_sent: int
    offers_accepted: int
    offers_declined: int
    offers_expired: int


WaitlistReport = Report[WaitlistRow, WaitlistTotals]
