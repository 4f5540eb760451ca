"""The pure report functions: periods in the tenant's zone, cash-basis sums, DST days of 23 and
25 hours in utilisation, and the CSV cells a spreadsheet must not run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from chalicelib.api.report_files import cell, csv_text
from chalicelib.domain import reports
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.domain.reports import Granularity, LocalRange
from chalicelib.domain.windows import DateOverride, WeeklyRule

BERLIN = ZoneInfo("Europe/Berlin")
ALL_DAY = [WeeklyRule(day, "00:00", "24:00", None) for day in range(7)]


def entry(kind: LedgerKind, cents: int, at: datetime) -> LedgerEntry:
    return LedgerEntry(f"e{at.timestamp():.0f}{kind.value}", "a1", kind, cents, "EUR", at)


def test_revenue_sums_charges_refunds_and_fees_per_local_month() -> None:
    span = LocalRange(date(2027, 1, 1), date(2027, 2, 28), BERLIN)
    entries = [
        entry(LedgerKind.CHARGE, 5_000, datetime(2027, 1, 31, 23, 30, tzinfo=UTC)),  # 1 Feb 00:30 in Berlin
        entry(LedgerKind.APPLICATION_FEE, 125, datetime(2027, 1, 31, 23, 30, tzinfo=UTC)),
        entry(LedgerKind.CHARGE, 3_000, datetime(2027, 1, 10, 9, tzinfo=UTC)),
        entry(LedgerKind.REFUND, 1_000, datetime(2027, 2, 2, 9, tzinfo=UTC)),
        entry(LedgerKind.FAILURE, 9_999, datetime(2027, 2, 3, 9, tzinfo=UTC)),  # a declined card moved no money
        entry(LedgerKind.CHARGE, 7_777, datetime(2026, 12, 31, 22, 59, tzinfo=UTC)),  # 23:59 on 31 Dec: outside
    ]

    rows = reports.revenue(entries, span, Granularity.MONTH)

    assert [(r.period, r.gross_cents, r.refunds_cents, r.fees_cents, r.net_cents, r.payments) for r in rows] == [
        ("2027-01", 3_000, 0, 0, 3_000, 1),
        ("2027-02", 5_000, 1_000, 125, 3_875, 1),
    ]
    total = reports.revenue_totals(rows)
    assert (total.gross_cents, total.net_cents, total.payments) == (8_000, 6_875, 2)


def test_a_week_is_labelled_by_its_monday_even_when_the_range_starts_midweek() -> None:
    span = LocalRange(date(2027, 3, 3), date(2027, 3, 9), BERLIN)  # Wednesday .. Tuesday

    rows = reports.revenue([], span, Granularity.WEEK)

    assert [r.period for r in rows] == ["2027-03-01", "2027-03-08"]


def test_the_local_range_ends_at_the_local_midnight_after_its_last_day() -> None:
    span = LocalRange(date(2027, 3, 28), date(2027, 3, 28), BERLIN)  # Berlin springs forward that night

    assert (span.start, span.end) == (
        datetime(2027, 3, 27, 23, tzinfo=UTC),
        datetime(2027, 3, 28, 22, tzinfo=UTC),
    )


def test_available_minutes_follow_the_clock_on_dst_days() -> None:
    plan = reports.open_plan(ALL_DAY, {})
    spring = LocalRange(date(2027, 3, 28), date(2027, 3, 28), BERLIN)
    autumn = LocalRange(date(2027, 10, 31), date(2027, 10, 31), BERLIN)
    plain = LocalRange(date(2027, 6, 1), date(2027, 6, 1), BERLIN)

    minutes = [
        sum(high - low for low, high in reports.available_spans(plan, BERLIN, span)) // 60
        for span in (spring, autumn, plain)
    ]

    assert minutes == [23 * 60, 25 * 60, 24 * 60]


def test_a_rule_for_some_services_still_counts_as_working_time_and_overrides_win() -> None:
    rules = [WeeklyRule(0, "09:00", "12:00", frozenset({"s1"})), WeeklyRule(0, "13:00", "17:00", None)]
    day_off = {date(2027, 6, 14): DateOverride(date(2027, 6, 14), ())}
    plan = reports.open_plan(rules, day_off)
    span = LocalRange(date(2027, 6, 7), date(2027, 6, 14), BERLIN)  # two Mondays, the second off

    spans = reports.available_spans(plan, BERLIN, span)

    assert sum(high - low for low, high in spans) // 60 == 7 * 60


def test_the_totals_ratio_is_of_the_sums_not_the_mean_of_ratios() -> None:
    rows = [
        reports.UtilizationRow("p1", "Full timer", 2_400, 1_200),
        reports.UtilizationRow("p2", "Part timer", 600, 0),
    ]

    total = reports.utilization_totals(rows)

    assert (total.available_minutes, total.booked_minutes, total.utilization) == (3_000, 1_200, 0.4)


def test_csv_cells_that_start_a_formula_are_prefixed_and_numbers_are_not() -> None:
    assert [cell(v) for v in ("=1+2", "+3", "-4", "@A1", "\tx", "\rx", "plain", "a=b")] == [
        "'=1+2",
        "'+3",
        "'-4",
        "'@A1",
        "'\tx",
        "'\rx",
        "plain",
        "a=b",
    ]
    assert [cell(v) for v in (-1250, 0.25, None, True)] == [-1250, 0.25, "", "true"]


def test_csv_is_rfc_4180_with_quotes_where_needed() -> None:
    text = csv_text(["name", "netCents"], [{"name": 'Ann "A" Lee, MD', "netCents": -1250}, {"name": "Bo"}])

    assert text == 'name,netCents\r\n"Ann ""A"" Lee, MD",-1250\r\nBo,\r\n'
