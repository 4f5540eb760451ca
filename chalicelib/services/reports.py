"""Reading what a report needs, with Queries only, and handing it to the pure report functions.

Revenue reads the tenant's ledger index for the range (one Query, paged, however many
appointments there are); the other reports read the appointments that start in the range
(one Query of the time index plus the batched money totals). Nothing here scans.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import reconciliation, reports
from chalicelib.domain.errors import PaymentsNotConfiguredError, RuleViolationError, UpstreamUnavailableError
from chalicelib.domain.reconciliation import Difference, ReconciliationTotals
from chalicelib.domain.reports import (
    ClientRow,
    ClientTotals,
    Granularity,
    LocalRange,
    RevenueRow,
    ServiceRow,
    UtilizationRow,
)
from chalicelib.domain.tenant import Tenant
from chalicelib.gateways.payments import (
    PaymentError,
    PaymentGateway,
    PaymentUnavailableError,
    TooManyTransactionsError,
)
from chalicelib.services.calendars import date_overrides, weekly_rules
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.clients import ClientMoneyRepository
from chalicelib.store.payments import PaymentRepository

# One reconciliation reads at most this many of Stripe's balance transactions (50 pages of 100).
MAX_TRANSACTIONS = 5000
# Appointments are at most a day long, so one that overlaps the range starts at most a day before it.
LONGEST_APPOINTMENT = timedelta(days=1)


class Reports:
    def __init__(
        self,
        payments: PaymentRepository,
        appointments: AppointmentRepository,
        catalog: CatalogRepository,
        clients: ClientMoneyRepository,
        gateway: Callable[[], PaymentGateway],
    ) -> None:
        self._payments = payments
        self._appointments = appointments
        self._catalog = catalog
        self._clients = clients
        self._gateway = gateway

    def revenue(
        self, tenant: Tenant, first: date, last: date, granularity: Granularity
    ) -> tuple[list[RevenueRow], RevenueRow]:
        span = _local(tenant, first, last)
        entries = self._payments.ledger_between(tenant.id, span.start, span.end)
        rows = reports.revenue(entries, span, granularity)
        return rows, reports.revenue_totals(rows)

    def services(self, tenant: Tenant, first: date, last: date) -> tuple[list[ServiceRow], ServiceRow]:
        span = _local(tenant, first, last)
        rows = reports.services(self._appointments.list_by_start(tenant.id, span.start, span.end))
        return rows, reports.service_totals(rows)

    def clients(self, tenant: Tenant, first: date, last: date) -> tuple[list[ClientRow], ClientTotals]:
        """The range's appointments (one Query) and their clients' all-time totals (BatchGets of
        the clients named): the cost follows the range, not the tenant's history."""
        span = _local(tenant, first, last)
        in_range = self._appointments.list_by_start(tenant.id, span.start, span.end)
        lifetime = self._clients.lifetime_values(tenant.id, {a.client.email for a in in_range})
        rows = reports.clients(in_range, lifetime)
        return rows, reports.client_totals(rows)

    def utilization(self, tenant: Tenant, first: date, last: date) -> tuple[list[UtilizationRow], UtilizationRow]:
        """Per provider; a provider's working windows are read on the range's dates in its own zone."""
        span = _local(tenant, first, last)
        snapshot = self._catalog.snapshot(tenant.id)
        appointments = self._appointments.list_by_start(tenant.id, span.start - LONGEST_APPOINTMENT, span.end)
        rows = []
        for provider in sorted(snapshot.providers.values(), key=lambda p: (p.name, p.id)):
            plan = reports.open_plan(weekly_rules(snapshot, provider.id), date_overrides(snapshot, provider.id))
            zone = ZoneInfo(provider.timezone or tenant.timezone)
            spans = reports.available_spans(plan, zone, span)
            rows.append(reports.utilization(provider.id, provider.name, spans, appointments))
        return rows, reports.utilization_totals(rows)

    def reconciliation(self, tenant: Tenant, first: date, last: date) -> tuple[list[Difference], ReconciliationTotals]:
        """Both sides read `MARGIN` beyond the range, so a pair split by its edge still matches."""
        if tenant.stripe_account_id is None:
            raise PaymentsNotConfiguredError("This business has no Stripe account to reconcile against.")
        span = _local(tenant, first, last)
        low, high = span.start - reconciliation.MARGIN, span.end + reconciliation.MARGIN
        ledger = self._payments.ledger_between(tenant.id, low, high)
        try:
            found = self._gateway().balance_transactions(tenant.stripe_account_id, low, high, MAX_TRANSACTIONS)
        except TooManyTransactionsError as exc:
            raise RuleViolationError(
                f"More than {MAX_TRANSACTIONS} Stripe balance transactions in this range: reconcile a shorter one.",
                {"fields": {"to": "narrow the range"}, "limit": MAX_TRANSACTIONS},
            ) from exc
        except PaymentError as exc:
            raise RuleViolationError(f"Stripe refused to list the balance transactions: {exc}") from exc
        except PaymentUnavailableError as exc:
            raise UpstreamUnavailableError("Stripe is unavailable; please retry.") from exc
        return reconciliation.reconcile(ledger, found, span.start, span.end)


def _local(tenant: Tenant, first: date, last: date) -> LocalRange:
    """The tenant's local dates `first`..`last`: reports count days where the business is."""
    return LocalRange(first, last, ZoneInfo(tenant.timezone))
