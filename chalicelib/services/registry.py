"""Lazily built service objects, one per process (warm Lambdas reuse them).

Built on first use, never at import, so configuration is read when it is there; tests
swap the clock or reset everything between cases. The services only the event-driven
functions use (the dispatcher, notifier, scheduled tasks, Stripe and SES events) are
imported inside their factories: every Lambda imports this module, and their imports
(jinja2 and the mail templates) would otherwise be paid by every API cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib import config
from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import PaymentsUnavailableError
from chalicelib.gateways.mail import MailGateway, SesMailGateway, outbox_dir
from chalicelib.gateways.payments import PaymentGateway, StripeGateway
from chalicelib.gateways.queues import QueueGateway, SqsQueue
from chalicelib.gateways.scheduler import EventBridgeScheduler, SchedulerGateway, SchedulerTarget
from chalicelib.gateways.secrets import MissingSecretError, secret
from chalicelib.gateways.sms import SmsGateway, SnsSmsGateway
from chalicelib.services.auth import Authenticator
from chalicelib.services.availability import AvailabilityService
from chalicelib.services.booking import BookingService
from chalicelib.services.calendars import TenantViews
from chalicelib.services.catalog import CatalogService
from chalicelib.services.checkout import CheckoutService
from chalicelib.services.client_money import ClientMoney
from chalicelib.services.payments import Payments
from chalicelib.services.payments_setup import PaymentsSetup
from chalicelib.services.refunds import Refunds
from chalicelib.services.reports import Reports
from chalicelib.services.tenants import TenantService
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.audit import AuditRepository
from chalicelib.store.calendar_connections import CalendarRepository
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.clients import ClientMoneyRepository
from chalicelib.store.effects import EffectLedger
from chalicelib.store.payments import PaymentRepository
from chalicelib.store.suppressions import SuppressionRepository
from chalicelib.store.tenants import TenantRepository

if TYPE_CHECKING:  # imported where built: the API's functions never load mail templates (jinja2)
    from chalicelib.gateways.documents import DocumentStore
    from chalicelib.gateways.google_calendar import GoogleCalendarGateway
    from chalicelib.gateways.token_cipher import TokenCipher
    from chalicelib.services.calendar_sync import CalendarSync
    from chalicelib.services.dispatcher import Dispatcher
    from chalicelib.services.invoicing import Invoicing
    from chalicelib.services.mail_events import MailEvents
    from chalicelib.services.notifications import Notifier
    from chalicelib.services.receipts import Receipts
    from chalicelib.services.scheduled_tasks import ScheduledTasks
    from chalicelib.services.stripe_events import StripeEvents
    from chalicelib.services.waitlist import WaitlistService
    from chalicelib.services.waitlist_effects import WaitlistEffects
    from chalicelib.services.waitlist_offers import WaitlistOffers
    from chalicelib.store.invoices import InvoiceRepository
    from chalicelib.store.waitlist import WaitlistRepository

T = TypeVar("T")
_instances: dict[str, Any] = {}
_clock: list[Callable[[], datetime]] = [utc_now]


def clock() -> datetime:
    return _clock[0]()


def set_clock(new_clock: Callable[[], datetime]) -> None:
    _clock[0] = new_clock


def reset() -> None:
    _instances.clear()
    _clock[0] = utc_now


def use(name: str, instance: Any) -> None:
    """Replace one dependency (tests hand in fakes of the gateways this way)."""
    _instances[name] = instance


def _once(name: str, build: Callable[[], T]) -> T:
    if name not in _instances:
        _instances[name] = build()
    instance: T = _instances[name]
    return instance


def tenant_repository() -> TenantRepository:
    return _once("tenant_repository", TenantRepository)


def catalog_repository() -> CatalogRepository:
    return _once("catalog_repository", CatalogRepository)


def authenticator() -> Authenticator:
    return _once("authenticator", lambda: Authenticator(tenant_repository()))


def tenant_service() -> TenantService:
    return _once("tenant_service", lambda: TenantService(tenant_repository(), clock))


def catalog_service() -> CatalogService:
    return _once("catalog_service", lambda: CatalogService(catalog_repository(), clock))


def appointment_repository() -> AppointmentRepository:
    return _once("appointment_repository", AppointmentRepository)


def tenant_views() -> TenantViews:
    return _once(
        "tenant_views", lambda: TenantViews(catalog_repository(), appointment_repository(), calendar_repository())
    )


def calendar_repository() -> CalendarRepository:
    return _once("calendar_repository", CalendarRepository)


def availability_service() -> AvailabilityService:
    return _once("availability_service", lambda: AvailabilityService(tenant_views(), clock))


def booking_service() -> BookingService:
    return _once(
        "booking_service",
        lambda: BookingService(
            tenant_views(), appointment_repository(), clock, checkout_service(), refunds(), payment_repository()
        ),
    )


def client_money_repository() -> ClientMoneyRepository:
    return _once("client_money_repository", ClientMoneyRepository)


def client_money() -> ClientMoney:
    return _once("client_money", lambda: ClientMoney(appointment_repository(), client_money_repository(), clock))


def payment_repository() -> PaymentRepository:
    return _once("payment_repository", PaymentRepository)


def reports() -> Reports:
    return _once(
        "reports",
        lambda: Reports(
            payment_repository(),
            appointment_repository(),
            catalog_repository(),
            client_money_repository(),
            payment_gateway,
        ),
    )


def payment_gateway() -> PaymentGateway:
    """Built on the first call that moves money, so a stage without Stripe secrets still books free times."""

    def build() -> PaymentGateway:
        try:
            return StripeGateway(secret("STRIPE_SECRET_KEY"), secret("STRIPE_WEBHOOK_SECRET"), config.stripe_api_base())
        except MissingSecretError as exc:
            raise PaymentsUnavailableError("Online payments are not available on this deployment.") from exc

    return _once("payment_gateway", build)


def checkout_service() -> CheckoutService:
    return _once("checkout_service", lambda: CheckoutService(payment_gateway, payment_repository(), clock))


def payments_setup() -> PaymentsSetup:
    return _once("payments_setup", lambda: PaymentsSetup(tenant_repository(), payment_repository(), payment_gateway))


def effect_ledger() -> EffectLedger:
    return _once("effect_ledger", EffectLedger)


def audit_repository() -> AuditRepository:
    return _once("audit_repository", AuditRepository)


def suppression_repository() -> SuppressionRepository:
    return _once("suppression_repository", SuppressionRepository)


def mail_gateway() -> MailGateway:
    return _once("mail_gateway", lambda: SesMailGateway(config.mail_configuration_set(), outbox_dir()))


def sms_gateway() -> SmsGateway:
    return _once("sms_gateway", SnsSmsGateway)


def scheduler_gateway() -> SchedulerGateway:
    def build() -> SchedulerGateway:
        return EventBridgeScheduler(
            SchedulerTarget(
                group=config.schedule_group(),
                target_arn=config.schedule_target_arn(),
                role_arn=config.scheduler_role_arn(),
                dead_letter_arn=config.scheduler_dead_letter_arn(),
            )
        )

    return _once("scheduler_gateway", build)


def notifier() -> Notifier:
    from chalicelib.services.notifications import Notifier

    return _once(
        "notifier",
        lambda: Notifier(
            tenant_repository(),
            catalog_repository(),
            appointment_repository(),
            suppression_repository(),
            mail_gateway(),
            sms_gateway(),
            clock,
        ),
    )


def dispatcher() -> Dispatcher:
    from chalicelib.services.dispatcher import Dispatcher, MoneyEffects

    return _once(
        "dispatcher",
        lambda: Dispatcher(
            effect_ledger(),
            audit_repository(),
            notifier(),
            scheduler_gateway(),
            tenant_repository(),
            clock,
            refund_queue(),
            MoneyEffects(invoicing, receipts, client_money),
            waitlist_effects,
            calendar_sync,
        ),
    )


def scheduled_tasks() -> ScheduledTasks:
    from chalicelib.services.scheduled_tasks import ScheduledTasks

    return _once(
        "scheduled_tasks",
        lambda: ScheduledTasks(
            appointment_repository(), booking_service(), notifier(), effect_ledger(), clock, waitlist_offers
        ),
    )


def mail_events() -> MailEvents:
    from chalicelib.services.mail_events import MailEvents

    return _once("mail_events", lambda: MailEvents(suppression_repository(), clock))


def refunds() -> Refunds:
    return _once(
        "refunds",
        lambda: Refunds(catalog_repository(), tenant_repository(), payment_repository(), payment_gateway, clock),
    )


def stripe_events() -> StripeEvents:
    from chalicelib.services.stripe_events import StripeEvents

    return _once(
        "stripe_events",
        lambda: StripeEvents(
            payment_gateway,
            payment_repository(),
            tenant_repository(),
            booking_service(),
            refunds(),
            clock,
            notifier(),
            effect_ledger(),
        ),
    )


def refund_queue() -> QueueGateway:
    return _once("refund_queue", lambda: SqsQueue(config.refund_queue_name()))


def payments() -> Payments:
    return _once(
        "payments",
        lambda: Payments(
            appointment_repository(),
            catalog_repository(),
            payment_repository(),
            refunds(),
            checkout_service(),
            payment_gateway,
            clock,
            booking_service(),
        ),
    )


def invoice_repository() -> InvoiceRepository:
    from chalicelib.store.invoices import InvoiceRepository

    return _once("invoice_repository", InvoiceRepository)


def document_store() -> DocumentStore:
    from chalicelib.gateways.documents import S3DocumentStore

    return _once("document_store", lambda: S3DocumentStore(config.invoice_bucket()))


def invoicing() -> Invoicing:
    """Imported where built: fpdf2, the fonts and the mail templates load only on the invoice path."""
    from chalicelib.services.invoicing import Invoicing

    return _once(
        "invoicing",
        lambda: Invoicing(
            tenant_repository(),
            appointment_repository(),
            payment_repository(),
            invoice_repository(),
            document_store,
            mail_gateway,
            clock,
        ),
    )


def receipts() -> Receipts:
    from chalicelib.services.receipts import Receipts

    return _once(
        "receipts",
        lambda: Receipts(
            tenant_repository(), appointment_repository(), suppression_repository(), mail_gateway(), clock
        ),
    )


def waitlist_repository() -> WaitlistRepository:
    from chalicelib.store.waitlist import WaitlistRepository

    return _once("waitlist_repository", WaitlistRepository)


def waitlist_service() -> WaitlistService:
    from chalicelib.services.waitlist import WaitlistService

    return _once("waitlist_service", lambda: WaitlistService(waitlist_repository(), catalog_repository(), clock))


def waitlist_offers() -> WaitlistOffers:
    from chalicelib.services.waitlist_offers import WaitlistOffers

    return _once(
        "waitlist_offers",
        lambda: WaitlistOffers(
            tenant_repository(), tenant_views(), waitlist_repository(), booking_service(), scheduler_gateway, clock
        ),
    )


def waitlist_effects() -> WaitlistEffects:
    """Imported where built: the mail templates load only on the stream's path."""
    from chalicelib.services.waitlist_effects import WaitlistEffects

    return _once(
        "waitlist_effects",
        lambda: WaitlistEffects(
            effect_ledger(),
            tenant_repository(),
            catalog_repository(),
            waitlist_repository(),
            waitlist_service(),
            waitlist_offers(),
            mail_gateway(),
            suppression_repository(),
            clock,
        ),
    )


def google_calendar_gateway() -> GoogleCalendarGateway:
    """Client id and secret from configuration (SSM parameters in deployed stages)."""
    from chalicelib.domain.errors import CalendarNotConfiguredError
    from chalicelib.gateways.google_calendar import GoogleCalendarGateway

    def build() -> GoogleCalendarGateway:
        try:
            return GoogleCalendarGateway(
                secret("GOOGLE_CLIENT_ID"), secret("GOOGLE_CLIENT_SECRET"), config.google_api_base()
            )
        except MissingSecretError as exc:
            raise CalendarNotConfiguredError("Google Calendar is not available on this deployment.") from exc

    return _once("google_calendar_gateway", build)


def token_cipher() -> TokenCipher:
    from chalicelib.gateways.token_cipher import KmsTokenCipher

    return _once("token_cipher", lambda: KmsTokenCipher(config.calendar_token_key()))


def calendar_sync() -> CalendarSync:
    from chalicelib.services.calendar_sync import CalendarGateways, CalendarSync
    from chalicelib.services.page_links import signing_key

    return _once(
        "calendar_sync",
        lambda: CalendarSync(
            calendar_repository(),
            appointment_repository(),
            catalog_repository(),
            tenant_repository(),
            effect_ledger(),
            CalendarGateways(google_calendar_gateway, token_cipher, mail_gateway, scheduler_gateway),
            clock,
            signing_key,
        ),
    )
