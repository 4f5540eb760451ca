"""Admin reports: revenue, utilisation, services, clients and reconciliation over local dates, as JSON,
CSV or PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.lazy import registry, report_models
from chalicelib.api.routing import api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
FILES = ("text/csv", "application/pdf")


@api_route(bp, "/v1/admin/reports/revenue", "GET", auth="admin", files=FILES)
def revenue_report(caller: Caller, query: report_models.RevenueQuery) -> report_models.RevenueReport:
    """Revenue per day, week or month of the tenant's zone, on a cash basis"""
    rows, totals = registry.reports().revenue(caller.tenant, query.first, query.last, query.granularity)
    return report_models.RevenueReport.build("revenue", (query.first, query.last), caller.tenant, rows, totals)


@api_route(bp, "/v1/admin/reports/utilization", "GET", auth="admin", files=FILES)
def utilization_report(caller: Caller, query: report_models.RangeQuery) -> report_models.UtilizationReport:
    """Available and booked minutes per provider"""
    rows, totals = registry.reports().utilization(caller.tenant, query.first, query.last)
    return report_models.UtilizationReport.build("utilization", (query.first, query.last), caller.tenant, rows, totals)


@api_route(bp, "/v1/admin/reports/services", "GET", auth="admin", files=FILES)
def services_report(caller: Caller, query: report_models.RangeQuery) -> report_models.ServiceReport:
    """Bookings, outcomes and revenue per service"""
    rows, totals = registry.reports().services(caller.tenant, query.first, query.last)
    return report_models.ServiceReport.build("services", (query.first, query.last), caller.tenant, rows, totals)


@api_route(bp, "/v1/admin/reports/clients", "GET", auth="admin", files=FILES)
def clients_report(caller: Caller, query: report_models.RangeQuery) -> report_models.ClientReport:
    """Visits and money per client, with lifetime value"""
    rows, totals = registry.reports().clients(caller.tenant, query.first, query.last)
    return report_models.ClientReport.build("clients", (query.first, query.last), caller.tenant, rows, totals)


@api_route(bp, "/v1/admin/reports/reconciliation", "GET", auth="admin", files=FILES, errors=(422, 503))
def reconciliation_report(caller: Caller, query: report_models.RangeQuery) -> report_models.ReconciliationReport:
    """The ledger against Stripe's balance transactions, every difference listed"""
    rows, totals = registry.reports().reconciliation(caller.tenant, query.first, query.last)
    return report_models.ReconciliationReport.build(
        "reconciliation", (query.first, query.last), caller.tenant, rows, totals
    )


@api_route(bp, "/v1/admin/reports/waitlist", "GET", auth="admin", files=FILES)
def waitlist_report(caller: Caller, query: report_models.RangeQuery) -> report_models.WaitlistReport:
    """Freed times, offers and how many the waitlist filled"""
    rows, totals = registry.waitlist_offers().report(caller.tenant, query.first, query.last)
    return report_models.WaitlistReport.build("waitlist", (query.first, query.last), caller.tenant, rows, totals)
