"""A tenant admin's invoices and credit notes."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.lazy import invoice_models, registry
from chalicelib.api.routing import Answered, api_route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
INVOICES = "/v1/admin/invoices"


@api_route(
    bp, "/v1/admin/appointments/{appointment_id}/invoice", "POST", auth="admin", status=201, also=(200,), errors=(422,)
)
def create_invoice(caller: Caller, appointment_id: str, body: invoice_models.NewInvoice) -> invoice_models.Invoice:
    """Issue the appointment's invoice (201), or answer the one already issued (200)"""
    invoice, created = registry.invoicing().create(caller.tenant, appointment_id)
    answer = invoice_models.Invoice.of(invoice)
    return answer if created else Answered(200, answer)  # type: ignore[return-value]


@api_route(bp, INVOICES, "GET", auth="admin")
def list_invoices(caller: Caller, query: invoice_models.InvoiceQuery) -> invoice_models.InvoicePage:
    """Invoices and credit notes by issue date"""
    start, end = query.window(ZoneInfo(caller.tenant.timezone), registry.clock())
    found, cursor = registry.invoicing().page(caller.tenant, start, end, query.kind, query.limit, query.cursor)
    return invoice_models.InvoicePage.of({"items": found, "next_cursor": cursor})


@api_route(bp, INVOICES + "/{invoice_id}", "GET", auth="admin")
def get_invoice(caller: Caller, invoice_id: str) -> invoice_models.InvoiceWithPdf:
    """One invoice or credit note, with a link to its PDF valid for 15 minutes"""
    invoice, url = registry.invoicing().get(caller.tenant, invoice_id)
    return invoice_models.InvoiceWithPdf.of(invoice, pdf_url=url)


@api_route(bp, INVOICES + "/{invoice_id}/send", "POST", auth="admin", status=202)
def send_invoice(caller: Caller, invoice_id: str) -> invoice_models.InvoiceSent:
    """Mail the PDF to the client (handed to the mail service: 202)"""
    return invoice_models.InvoiceSent.of(registry.invoicing().send(caller.tenant, invoice_id))
