"""Issue 11's reports on the API: a seeded fortnight of bookings, payments, a refund, a completed
visit and a no-show, and every report compared with figures worked out by hand below.

The money is real: deposits and full payments go through the fake Stripe's Checkout and its
signed webhook, the refund through the table's stream and the refunds queue.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from tests.api.booking_support import MONDAY, NOW, TUESDAY, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import TIERED_POLICY, Refunding, paid

PRICE, DEPOSIT = 10_000, 2_000
# Bob pays at 23:30 on 2 March in New York: already 3 March in UTC, still the 2nd for the business.
BOB_PAYS = datetime(2027, 3, 3, 4, 30, tzinfo=UTC)
ANN_REFUNDED = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def refunding(aws: str) -> Refunding:
    return Refunding(aws)


@pytest.fixture
def month(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway, refunding: Refunding) -> Shop:
    """Ann: facial with a deposit, cancelled with a full refund, and a free chat she keeps.
    Bob: facial paid in full, completed. Cy: a free chat, no-show. All with Dana, weekdays 9-17."""
    freeze(NOW)
    shop = Shop(api, tenant)
    facial = shop.service(
        name="Facial",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=PRICE,
        depositCents=DEPOSIT,
        cancellationPolicy=TIERED_POLICY,
    )
    chat = shop.service(name="Chat", durationMinutes=30, slotIntervalMinutes=30, priceCents=0)
    shop.provider([facial, chat], name="Dana")

    ann_facial = shop.booked(facial, local(MONDAY, "10:00"), payment="deposit", client=client("Ann"))
    paid(shop, ann_facial)
    freeze(BOB_PAYS)
    bob_facial = shop.booked(facial, local(MONDAY, "12:00"), payment="full", client=client("Bob"))
    paid(shop, bob_facial)
    cy_chat = shop.booked(chat, local(TUESDAY, "09:00"), client=client("Cy"))
    shop.booked(chat, local(TUESDAY, "10:00"), client=client("Ann"))

    freeze(ANN_REFUNDED)
    status, body = shop.admin("POST", f"/{ann_facial['appointment']['id']}/cancel", {"refund": "full"})
    assert status == 200, body
    refunding.run()
    assert refunding.failures() == []

    freeze(from_iso(local(TUESDAY, "12:00")))
    assert shop.admin("POST", f"/{bob_facial['appointment']['id']}/complete")[0] == 200
    assert shop.admin("POST", f"/{cy_chat['appointment']['id']}/no-show", {})[0] == 200
    return shop


def report(shop: Shop, name: str, query: str) -> dict[str, Any]:
    status, body = shop.api.call("GET", f"/v1/admin/reports/{name}?{query}", key=shop.key)
    assert status == 200, body
    assert body["report"] == name
    return dict(body)


def download(shop: Shop, name: str, query: str, accept: str = "*/*") -> tuple[str, bytes]:
    headers = {"Authorization": f"Bearer {shop.key}", "Accept": accept}
    response = shop.api.client.http.get(f"/v1/admin/reports/{name}?{query}", headers=headers)
    assert response.status_code == 200, response.body
    return response.headers["Content-Type"], response.body


def test_revenue_by_month_is_cash_in_minus_cash_out(month: Shop) -> None:
    body = report(month, "revenue", "from=2027-03-01&to=2027-03-31&granularity=month")

    assert (body["from"], body["to"], body["currency"]) == ("2027-03-01", "2027-03-31", "USD")
    # charges: Ann's deposit 20.00 + Bob's 100.00; refunds: Ann's 20.00; no platform fee here
    assert body["rows"] == [
        {
            "period": "2027-03",
            "grossCents": 12_000,
            "refundsCents": 2_000,
            "feesCents": 0,
            "netCents": 10_000,
            "payments": 2,
        }
    ]
    assert body["totals"] == {
        "grossCents": 12_000,
        "refundsCents": 2_000,
        "feesCents": 0,
        "netCents": 10_000,
        "payments": 2,
    }


def test_revenue_by_day_counts_the_day_in_the_tenants_zone_and_keeps_empty_days(month: Shop) -> None:
    body = report(month, "revenue", "from=2027-03-01&to=2027-03-10&granularity=day")

    by_day = {row["period"]: (row["grossCents"], row["refundsCents"], row["netCents"]) for row in body["rows"]}
    assert list(by_day) == [f"2027-03-{day:02d}" for day in range(1, 11)]
    assert by_day["2027-03-01"] == (2_000, 0, 2_000)
    assert by_day["2027-03-02"] == (10_000, 0, 10_000)  # 04:30 UTC on the 3rd is the 2nd in New York
    assert by_day["2027-03-03"] == (0, 0, 0)
    assert by_day["2027-03-10"] == (0, 2_000, -2_000)
    assert sum(gross for gross, _, _ in by_day.values()) == 12_000


def test_revenue_by_week_labels_iso_weeks_by_their_monday(month: Shop) -> None:
    body = report(month, "revenue", "from=2027-03-01&to=2027-03-14&granularity=week")

    assert [(r["period"], r["netCents"]) for r in body["rows"]] == [("2027-03-01", 12_000), ("2027-03-08", -2_000)]


def test_services_count_every_booking_and_what_came_of_it(month: Shop) -> None:
    body = report(month, "services", f"from={MONDAY}&to={TUESDAY}")

    assert [{k: v for k, v in row.items() if k != "serviceId"} for row in body["rows"]] == [
        {
            "serviceName": "Chat",
            "bookings": 2,
            "completed": 0,
            "cancelled": 0,
            "noShows": 1,
            "noShowRate": 1.0,  # Cy's chat was the only one due (Ann's is still confirmed)
            "revenueCents": 0,
        },
        {
            "serviceName": "Facial",
            "bookings": 2,
            "completed": 1,
            "cancelled": 1,
            "noShows": 0,
            "noShowRate": 0.0,
            "revenueCents": 10_000,  # Bob's 100.00; Ann's deposit went back
        },
    ]
    assert body["totals"] == {
        "bookings": 4,
        "completed": 1,
        "cancelled": 1,
        "noShows": 1,
        "noShowRate": 0.5,
        "revenueCents": 10_000,
    }


def test_utilization_is_booked_minutes_of_confirmed_and_completed_time_over_working_minutes(month: Shop) -> None:
    body = report(month, "utilization", f"from={MONDAY}&to={TUESDAY}")

    ((row),) = body["rows"]
    # two days of 09:00-17:00 = 960 min; Bob's facial (60, completed) + Ann's chat (30, confirmed);
    # Ann's cancelled facial and Cy's no-show do not count
    assert (row["providerName"], row["availableMinutes"], row["bookedMinutes"]) == ("Dana", 960, 90)
    assert row["utilization"] == pytest.approx(90 / 960, abs=1e-4)
    assert body["totals"]["availableMinutes"] == 960


def test_clients_show_visits_money_and_lifetime_value(month: Shop) -> None:
    body = report(month, "clients", f"from={MONDAY}&to={TUESDAY}")

    rows = {row["email"]: row for row in body["rows"]}
    assert [row["email"] for row in body["rows"]] == ["bob@example.test", "ann@example.test", "cy@example.test"]
    ann = rows["ann@example.test"]
    assert (ann["visits"], ann["spentCents"], ann["refundedCents"], ann["lifetimeValueCents"]) == (1, 2_000, 2_000, 0)
    assert (ann["firstVisit"], ann["lastVisit"]) == (local(MONDAY, "10:00"), local(TUESDAY, "10:00"))
    assert rows["bob@example.test"]["lifetimeValueCents"] == 10_000
    assert rows["cy@example.test"]["visits"] == 0  # a no-show is no visit
    assert body["totals"] == {"clients": 3, "visits": 2, "spentCents": 12_000, "refundedCents": 2_000}


def test_clients_lifetime_value_counts_appointments_outside_the_range(month: Shop) -> None:
    # Bob, who paid 100.00 for Monday's facial, also books a free chat on Tuesday (email in capitals)
    freeze(NOW)
    chat = next(
        s for s in month.api.call("GET", "/v1/admin/services", key=month.key)[1]["items"] if s["name"] == "Chat"
    )
    month.booked(chat, local(TUESDAY, "11:00"), client=client("Bob", "BOB@example.test"))

    body = report(month, "clients", f"from={TUESDAY}&to={TUESDAY}")

    rows = {row["email"]: row for row in body["rows"]}
    assert [row["email"] for row in body["rows"]] == ["bob@example.test", "ann@example.test", "cy@example.test"]
    assert (rows["bob@example.test"]["spentCents"], rows["bob@example.test"]["lifetimeValueCents"]) == (0, 10_000)
    assert (rows["ann@example.test"]["spentCents"], rows["ann@example.test"]["lifetimeValueCents"]) == (0, 0)


def test_csv_has_the_json_fields_as_header_and_numbers_stay_numbers(month: Shop) -> None:
    media, raw = download(month, "revenue", "from=2027-03-08&to=2027-03-14&granularity=week&format=csv")

    assert media.startswith("text/csv")
    assert raw.endswith(b"\r\n")
    lines = raw.decode().split("\r\n")
    assert lines[0] == "period,grossCents,refundsCents,feesCents,netCents,payments"
    assert lines[1] == "2027-03-08,0,2000,0,-2000,0"  # a negative amount is a number, not neutralised text


def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(api: Api, tenant: dict[str, Any]) -> None:
    freeze(NOW)
    shop = Shop(api, tenant)
    chat = shop.service(name="Chat", durationMinutes=30, slotIntervalMinutes=30, priceCents=0)
    shop.provider([chat], name="Dana")
    names = ['=HYPERLINK("http://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)"]
    for hour, name in zip(("09:00", "10:00", "11:00", "12:00"), names, strict=True):
        shop.booked(chat, local(MONDAY, hour), client=client(name, f"c{hour[:2]}@example.test"))

    _, raw = download(shop, "clients", f"from={MONDAY}&to={MONDAY}&format=csv")

    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert sorted(row["name"] for row in rows) == sorted("'" + name for name in names)
    assert {row["visits"] for row in rows} == {"1"}


def test_pdf_is_one_page_with_the_report(month: Shop) -> None:
    # API Gateway returns a binary body only to a request that accepts its type
    media, raw = download(month, "revenue", "from=2027-03-01&to=2027-03-31&format=pdf", "application/pdf")

    assert media == "application/pdf"
    assert raw.startswith(b"%PDF-")
    assert raw.count(b"/Type /Page\n") + raw.count(b"/Type /Page>") + raw.count(b"/Type /Page ") >= 1
    assert b"/Count 1" in raw


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2027-03-10&to=2027-03-01", "to"),
        ("from=2027-01-01&to=2028-01-02", "to"),  # 367 days
        ("from=2027-02-30&to=2027-03-01", "from"),
        ("to=2027-03-01", "from"),
        ("from=2027-03-01&to=2027-03-02&format=xlsx", "format"),
        ("from=2027-03-01&to=2027-03-02&granularity=hour", "granularity"),
    ],
)
def test_a_bad_range_or_format_is_400_naming_the_field(month: Shop, query: str, field: str) -> None:
    status, body = month.api.call("GET", f"/v1/admin/reports/revenue?{query}", key=month.key)

    assert status == 400, body
    assert field in body["error"]["details"]["fields"]


def test_a_year_of_366_days_is_allowed(month: Shop) -> None:
    body = report(month, "revenue", "from=2028-01-01&to=2028-12-31&granularity=month")  # a leap year

    assert len(body["rows"]) == 12


def test_reports_only_see_the_callers_tenant(month: Shop, api: Api) -> None:
    other = api.open_tenant("other")

    status, body = api.call(
        "GET", "/v1/admin/reports/revenue?from=2027-03-01&to=2027-03-31&granularity=month", key=other["secretKey"]
    )

    assert status == 200, body
    assert body["totals"]["grossCents"] == 0


def test_reports_need_the_secret_key(month: Shop) -> None:
    status, _ = month.api.call(
        "GET", "/v1/admin/reports/revenue?from=2027-03-01&to=2027-03-31", public_key=month.public_key
    )

    assert status == 401
