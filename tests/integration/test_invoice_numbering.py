"""Invoice numbers on the emulator: consecutive from 0001 with no gaps and no repeats under
concurrent creation, and one series per tenant, per kind and per year of the tenant's zone.

The threads call the invoicing service directly (Chalice's test client keeps one current
request on the shared app), as concurrent Lambda invocations would; the emulator isolates
each table operation as DynamoDB does, so they interleave between reading the counter and
committing the transaction that claims the next number."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.invoices import Buyer, InvoiceKind, Sale, draft_credit_note, draft_invoice, invoice_year
from chalicelib.domain.tenant import Address, InvoiceSettings, Tenant
from chalicelib.services import registry
from tests.api.booking_support import MONDAY, TUESDAY, Shop, freeze, local
from tests.races import race

SELLER = {
    "legalName": "Acme Wellness LLC",
    "address": {"line1": "1 Main St", "city": "New York", "postalCode": "10001", "country": "US"},
    "taxId": "US-12-3456789",
}
ISSUED = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


def tenant_of(shop: Shop) -> Tenant:
    return registry.tenant_repository().get(shop.tenant["tenant"]["id"])


def book_many(shop: Shop, count: int) -> list[str]:
    """`count` confirmed (free) appointments: 15-minute slots on Monday and Tuesday, 09:00-17:00."""
    service = shop.service(name="Check-up", durationMinutes=15, slotIntervalMinutes=15, priceCents=0)
    shop.provider([service])
    ids = []
    for n in range(count):
        day = MONDAY if n < 32 else TUESDAY
        minutes = 9 * 60 + 15 * (n % 32)
        booked = shop.booked(service, local(day, f"{minutes // 60:02d}:{minutes % 60:02d}"))
        assert booked["appointment"]["status"] == "confirmed"
        ids.append(str(booked["appointment"]["id"]))
    return ids


def test_64_concurrent_invoices_of_one_tenant_are_numbered_0001_to_0064(shop: Shop) -> None:
    # GIVEN 64 confirmed appointments of one tenant
    shop.settings(**SELLER)
    appointment_ids = book_many(shop, 64)
    tenant = tenant_of(shop)
    freeze(ISSUED)

    # WHEN 64 threads each issue the invoice of a different appointment at once
    outcomes: list[Any] = race(64, lambda i: registry.invoicing().create(tenant, appointment_ids[i]))

    # THEN every one was issued, and the numbers are exactly 0001..0064
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert not failures, failures
    assert all(created for _, created in outcomes)
    numbers = sorted(invoice.number for invoice, _ in outcomes)
    assert numbers == [f"INV-2027-{n:04d}" for n in range(1, 65)]
    assert {invoice.appointment_id for invoice, _ in outcomes} == set(appointment_ids)
    assert registry.invoice_repository().last_number(tenant.id, InvoiceKind.INVOICE, 2027) == 64


def test_racing_requests_for_one_appointment_issue_one_invoice_and_use_one_number(shop: Shop) -> None:
    shop.settings(**SELLER)
    [appointment_id] = book_many(shop, 1)
    tenant = tenant_of(shop)

    outcomes: list[Any] = race(16, lambda i: registry.invoicing().create(tenant, appointment_id))

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sum(created for _, created in outcomes) == 1
    assert {invoice.number for invoice, _ in outcomes} == {"INV-2027-0001"}
    assert registry.invoice_repository().last_number(tenant.id, InvoiceKind.INVOICE, 2027) == 1


def test_the_year_of_the_series_is_the_tenants_not_utcs(shop: Shop) -> None:
    # GIVEN a business in Berlin and one in New York (the shop), each with appointments to invoice
    shop.settings(**SELLER)
    new_york_ids = book_many(shop, 3)
    berlin = Shop(shop.api, shop.api.open_tenant("berlin", timezone="Europe/Berlin", payments=False))
    berlin.settings(**SELLER)
    berlin_ids = book_many(berlin, 2)

    # WHEN both invoice at 23:30 UTC on 31 December 2027 (00:30 on 1 January in Berlin) ...
    freeze(datetime(2027, 12, 31, 23, 30, tzinfo=UTC))
    berlin_first, _ = registry.invoicing().create(tenant_of(berlin), berlin_ids[0])
    new_york_first, _ = registry.invoicing().create(tenant_of(shop), new_york_ids[0])
    # ... and New York again at 23:30 its own time, then just after its midnight
    freeze(datetime(2028, 1, 1, 4, 30, tzinfo=UTC))
    new_york_second, _ = registry.invoicing().create(tenant_of(shop), new_york_ids[1])
    freeze(datetime(2028, 1, 1, 5, 0, 1, tzinfo=UTC))
    new_york_third, _ = registry.invoicing().create(tenant_of(shop), new_york_ids[2])
    berlin_second, _ = registry.invoicing().create(tenant_of(berlin), berlin_ids[1])

    # THEN each series counts in its own zone's year, and the two tenants never share one
    assert berlin_first.number == "INV-2028-0001"
    assert (new_york_first.number, new_york_second.number) == ("INV-2027-0001", "INV-2027-0002")
    assert new_york_third.number == "INV-2028-0001"
    assert berlin_second.number == "INV-2028-0002"


def _draft(tenant_id: str, invoice_id: str, appointment_id: str, issued_at: datetime):  # type: ignore[no-untyped-def]
    sale = Sale(appointment_id, "Check-up", 5_000, "USD", date(2027, 3, 15), Buyer("Ann", "ann@example.test"))
    settings = InvoiceSettings("Acme", Address("1 Main St", "", "New York", "10001", "", "US"), "US-1")
    return draft_invoice(
        invoice_id=invoice_id, tenant_id=tenant_id, sale=sale, settings=settings, tax_rate_bps=0, issued_at=issued_at
    )


def test_invoices_and_credit_notes_are_separate_series_per_tenant(aws: str) -> None:
    repository = registry.invoice_repository()
    year = invoice_year(ISSUED, "UTC")
    first, _ = repository.issue_invoice(_draft("tn_a", "inv_a1", "ap_1", ISSUED), "INV", year)
    second, _ = repository.issue_invoice(_draft("tn_a", "inv_a2", "ap_2", ISSUED), "INV", year)
    other_tenant, _ = repository.issue_invoice(_draft("tn_b", "inv_b1", "ap_1", ISSUED), "INV", year)
    note = draft_credit_note(
        credit_note_id="cn_a1", invoice=first, refunded_cents=1_000, issued_at=ISSUED + timedelta(hours=1), reason=""
    )
    credit, _ = repository.issue_credit_note(note, "CN", year, "rf-1")
    next_year, _ = repository.issue_invoice(
        _draft("tn_a", "inv_a3", "ap_3", datetime(2028, 1, 2, tzinfo=UTC)), "INV", 2028
    )

    assert (first.number, second.number) == ("INV-2027-0001", "INV-2027-0002")
    assert other_tenant.number == "INV-2027-0001"
    assert credit.number == "CN-2027-0001"
    assert (credit.refers_to, credit.total_cents) == ("inv_a1", -1_000)
    assert next_year.number == "INV-2028-0001"
    assert repository.creditable_cents("tn_a", "inv_a1") == 4_000


def test_a_credit_note_larger_than_what_is_left_is_impossible(aws: str) -> None:
    from chalicelib.store.invoices import CreditExhaustedError

    repository = registry.invoice_repository()
    invoice, _ = repository.issue_invoice(_draft("tn_a", "inv_a1", "ap_1", ISSUED), "INV", 2027)
    take = draft_credit_note(credit_note_id="cn_1", invoice=invoice, refunded_cents=4_000, issued_at=ISSUED, reason="")
    repository.issue_credit_note(take, "CN", 2027, "rf-1")
    too_much = replace(
        draft_credit_note(credit_note_id="cn_2", invoice=invoice, refunded_cents=1_001, issued_at=ISSUED, reason="")
    )

    try:
        repository.issue_credit_note(too_much, "CN", 2027, "rf-2")
        raised = False
    except CreditExhaustedError:
        raised = True

    assert raised
    assert repository.creditable_cents("tn_a", "inv_a1") == 1_000
    assert repository.last_number("tn_a", InvoiceKind.CREDIT_NOTE, 2027) == 1  # the refusal took no number
