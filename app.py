"""Composition root: create the app, register middleware and blueprints. Nothing else."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

from chalicelib import config
from chalicelib.api import (
    admin_appointments,
    admin_audit,
    admin_calendar,
    admin_invoices,
    admin_payments,
    admin_providers,
    admin_reports,
    admin_services,
    admin_tenant,
    events,
    openapi,
    platform,
    public,
    public_booking,
    queues,
    waitlist,
    webhooks,
)
from chalicelib.api.errors import api_error_shape
from chalicelib.observability import logger, metrics
from chalicelib.pages import assets as page_assets
from chalicelib.pages import booking as booking_pages
from chalicelib.pages import embed as embed_pages
from chalicelib.pages import manage as manage_pages
from chalicelib.pages import waitlist as waitlist_pages
from chalicelib.pages import waitlist_join as waitlist_join_pages

app = Chalice(app_name="scheduling")
app.debug = False
app.api.binary_types.append("application/pdf")  # report downloads

app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    )
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics(raise_on_empty_metrics=False)))
app.register_middleware(api_error_shape, "http")

for blueprint in (
    platform.bp,
    admin_tenant.bp,
    admin_services.bp,
    admin_providers.bp,
    admin_appointments.bp,
    admin_audit.bp,
    admin_payments.bp,
    admin_reports.bp,
    admin_invoices.bp,
    waitlist.bp,
    admin_calendar.bp,
    public.bp,
    public_booking.bp,
    openapi.bp,
    events.bp,
    webhooks.bp,
    queues.bp,
    booking_pages.bp,
    embed_pages.bp,
    manage_pages.bp,
    waitlist_pages.bp,
    waitlist_join_pages.bp,
    page_assets.bp,
):
    app.register_blueprint(blueprint)

if config.local_mode():
    from chalicelib.api import local_mail  # the local stack's mail listing: never deployed

    app.register_blueprint(local_mail.bp)
