"""PynamoDB models of the single table. Only the store imports this module.

Every item carries a `type` discriminator (PynamoDB polymorphism), so a query over a
shared partition yields the right model class per item.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.actor import current_actor

DEFAULT_TABLE_NAME = "scheduling-dev"


class Gsi1(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    """Overloaded index: each item type that needs a second access path fills gsi1pk/gsi1sk."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class TableItem(Model):
    class Meta:
        table_name = DEFAULT_TABLE_NAME

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True, attr_name="ttl")
    actor = UnicodeAttribute(null=True, default=current_actor)  # who wrote this version (audit)
    gsi1 = Gsi1()


class TenantItem(TableItem, discriminator="Tenant"):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    timezone = UnicodeAttribute()
    currency = UnicodeAttribute()
    email = UnicodeAttribute()
    settings: JSONAttribute = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class SlugItem(TableItem, discriminator="Slug"):
    tenant_id = UnicodeAttribute()


class ApiKeyItem(TableItem, discriminator="ApiKey"):
    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ServiceItem(TableItem, discriminator="Service"):
    service_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    duration_minutes = NumberAttribute()
    buffer_before_minutes = NumberAttribute(default=0)
    buffer_after_minutes = NumberAttribute(default=0)
    slot_interval_minutes = NumberAttribute(null=True)
    price_cents = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    deposit_cents = NumberAttribute(null=True)
    deposit_percent = NumberAttribute(null=True)
    capacity = NumberAttribute(default=1)
    no_show_fee_cents = NumberAttribute(null=True)
    prepayment = UnicodeAttribute(null=True)  # absent (older items): the default for the deposit
    active = BooleanAttribute(default=True)
    intake_fields: JSONAttribute = JSONAttribute(default=list)
    cancellation_policy: JSONAttribute = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class ProviderItem(TableItem, discriminator="Provider"):
    provider_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    timezone = UnicodeAttribute(null=True)
    service_ids: JSONAttribute = JSONAttribute(default=list)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class RulesItem(TableItem, discriminator="WeeklyRules"):
    provider_id = UnicodeAttribute()
    rules: JSONAttribute = JSONAttribute(default=list)
    version = VersionAttribute()


class OverrideItem(TableItem, discriminator="DateOverride"):
    override_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    date = UnicodeAttribute()
    intervals: JSONAttribute = JSONAttribute(default=list)


def all_models() -> list[type[TableItem]]:
    """The base and every subclass: binding a table name must reach them all."""
    found: list[type[TableItem]] = [TableItem]
    index = 0
    while index < len(found):
        found.extend(sub for sub in found[index].__subclasses__() if sub not in found)
        index += 1
    return found


def version_kwargs(version: int) -> dict[str, Any]:
    """A new item's version is left unset (PynamoDB then requires that none exists yet)."""
    return {"version": version} if version else {}


class Gsi2(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    """Every appointment of a tenant by start time (admin lists, reports)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class AppointmentItem(TableItem, discriminator="Appointment"):
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()
    appointment_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    service_name = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    status = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    timezone = UnicodeAttribute()
    client: JSONAttribute = JSONAttribute()
    intake: JSONAttribute = JSONAttribute(default=dict)
    price_cents = NumberAttribute()
    currency = UnicodeAttribute()
    buffer_before_minutes = NumberAttribute()
    buffer_after_minutes = NumberAttribute()
    capacity = NumberAttribute(default=1)
    amount_due_now_cents = NumberAttribute(default=0)
    amount_paid_cents = NumberAttribute(default=0)
    amount_refunded_cents = NumberAttribute(default=0)
    payment_status = UnicodeAttribute(default="none")
    hold_until = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    refund_on_cancel_cents = NumberAttribute(null=True)  # absent: nothing given back
    links_from_version = NumberAttribute(null=True)  # absent (older items): the item's version
    calendar_conflict = BooleanAttribute(null=True)  # its Google event was deleted or moved in Google
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class LockItem(TableItem, discriminator="Lock"):
    """One 5-minute quantum of a provider's time, owned by one appointment (or one class session)."""

    owner = UnicodeAttribute()  # appointment id, or session key for a class
    hold_until_epoch = NumberAttribute(null=True)  # set while the owner is an unpaid hold


class SessionItem(TableItem, discriminator="ClassSession"):
    """Seat counter of one group-class session."""

    seats = NumberAttribute(default=0)
    capacity = NumberAttribute()


class AttendeeItem(TableItem, discriminator="Attendee"):
    appointment_id = UnicodeAttribute()


class TokenItem(TableItem, discriminator="ActionToken"):
    appointment_id = UnicodeAttribute()
    actions: JSONAttribute = JSONAttribute()
    token_expires_at = UTCDateTimeAttribute()
    minted_for_version = NumberAttribute()
    used = BooleanAttribute(default=False)


class IdempotencyItem(TableItem, discriminator="Idempotency"):
    appointment_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()


class ClientItem(TableItem, discriminator="Client"):
    """One client of a tenant (by email): written by every booking; `spent_cents` and
    `refunded_cents` are running totals of all the client's money, all time (lifetime value)."""

    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute()
    bookings = NumberAttribute(default=0)
    last_booked_at = UTCDateTimeAttribute(null=True)
    spent_cents = NumberAttribute(default=0)
    refunded_cents = NumberAttribute(default=0)


class ClientMoneyCountedItem(TableItem, discriminator="ClientMoneyCounted"):
    """Marks a ledger entry as counted in its client's totals, in the same transaction as the
    count, so a redelivered stream record cannot count it twice (kept past stream retention)."""


class TombstoneItem(TableItem, discriminator="Tombstone"):
    """Written in the same transaction as a deletion, so the audit trail knows who deleted what."""

    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    summary: JSONAttribute = JSONAttribute(default=dict)


class EffectItem(TableItem, discriminator="Effect"):
    """One side effect of one appointment version: claimed, then done (at least once, never twice on redelivery)."""

    status = UnicodeAttribute()  # "claimed" | "done"
    lease_until = NumberAttribute(default=0)
    detail: JSONAttribute = JSONAttribute(default=dict)


class AuditItem(TableItem, discriminator="Audit"):
    entry_id = UnicodeAttribute()
    at = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    action = UnicodeAttribute()
    before: JSONAttribute = JSONAttribute(null=True)
    after: JSONAttribute = JSONAttribute(null=True)


class SuppressionItem(TableItem, discriminator="Suppression"):
    reason = UnicodeAttribute()
    suppressed_at = UTCDateTimeAttribute()


class MoneyItem(TableItem, discriminator="Money"):
    """Running totals of one appointment's ledger, updated in the same transaction as each entry.

    `refundable` is paid - refunded - refunds in flight: a refund request reserves its amount
    with the condition `refundable >= amount`, so no two requests can refund the same money.
    """

    currency = UnicodeAttribute()
    paid = NumberAttribute(default=0)
    refunded = NumberAttribute(default=0)
    refundable = NumberAttribute(default=0)
    checkout_session_id = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    payment_method_id = UnicodeAttribute(null=True)
    # Payment intents already counted in `paid`: a charge is recorded once whenever it arrives.
    charged_intents = UnicodeSetAttribute(null=True)


class LedgerItem(TableItem, discriminator="LedgerEntry"):
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()
    entry_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    at = UnicodeAttribute()
    stripe_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(default="")


class RefundRequestItem(TableItem, discriminator="RefundRequest"):
    request_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()  # requested | succeeded | failed
    reason = UnicodeAttribute(default="")
    payment_intent_id = UnicodeAttribute()
    stripe_refund_id = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    requested_at = UnicodeAttribute()


class StripeEventItem(TableItem, discriminator="StripeEvent"):
    """A webhook event seen once: claimed with a lease, then done (like the effect ledger)."""

    status = UnicodeAttribute()
    lease_until = NumberAttribute(default=0)
    event_type = UnicodeAttribute()


class StripeAccountItem(TableItem, discriminator="StripeAccount"):
    """Platform registry: connected account -> tenant (account-level webhooks carry no metadata)."""

    tenant_id = UnicodeAttribute()


class InvoiceItem(TableItem, discriminator="Invoice"):
    """An invoice or credit note, frozen at issue (seller and buyer copied); only the PDF's
    location and digest, the status and what is left to credit change afterwards."""

    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()
    invoice_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    number = UnicodeAttribute()
    status = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    refers_to = UnicodeAttribute(null=True)
    refers_to_number = UnicodeAttribute(null=True)
    issued_at = UnicodeAttribute()
    supplied_on = UnicodeAttribute()
    currency = UnicodeAttribute()
    seller: JSONAttribute = JSONAttribute()
    buyer: JSONAttribute = JSONAttribute()
    lines: JSONAttribute = JSONAttribute()
    payments: JSONAttribute = JSONAttribute(default=list)
    prices_include_tax = BooleanAttribute()
    subtotal_cents = NumberAttribute()
    tax_cents = NumberAttribute()
    total_cents = NumberAttribute()
    amount_paid_cents = NumberAttribute()
    amount_due_cents = NumberAttribute()
    creditable_cents = NumberAttribute(default=0)  # invoices: total less credit notes so far
    paid_entries = UnicodeSetAttribute(null=True)  # the charge ledger entries counted in amount_paid
    pdf_key = UnicodeAttribute(null=True)
    pdf_sha256 = UnicodeAttribute(null=True)


class InvoiceClaimItem(TableItem, discriminator="InvoiceClaim"):
    """One invoice per appointment, one credit note per refund: holds the document's id."""

    invoice_id = UnicodeAttribute()


class DocumentCounterItem(TableItem, discriminator="DocumentCounter"):
    """The last number given in one series (tenant, kind, year)."""

    last = NumberAttribute(default=0)


# --- waitlist (issue 13) ----------------------------------------------------------------------


class WaitlistEntryItem(TableItem, discriminator="WaitlistEntry"):
    entry_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    provider_id = UnicodeAttribute(null=True)
    windows: JSONAttribute = JSONAttribute(default=list)
    client: JSONAttribute = JSONAttribute()
    status = UnicodeAttribute()
    vip = BooleanAttribute(default=False)
    joined_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    confirmed_at = UTCDateTimeAttribute(null=True)
    removed_reason = UnicodeAttribute(null=True)
    confirm_token_hash = UnicodeAttribute(null=True)  # SHA-256 of the confirmation link's token
    revision = NumberAttribute(default=1)  # bumped by every change; changes are conditional on it


class WaitlistCounterItem(TableItem, discriminator="WaitlistCounter"):
    """A count kept under a condition: active entries of one email, offer mails of one hour."""

    tally = NumberAttribute(default=0)


class FreedSlotItem(TableItem, discriminator="WaitlistSlot"):
    """One provider's freed start and the offer that now holds it (at most one, by condition)."""

    provider_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    occupied_start = UnicodeAttribute()
    occupied_end = UnicodeAttribute()
    status = UnicodeAttribute()
    round = NumberAttribute(default=1)
    freed_at = UTCDateTimeAttribute()
    cause = UnicodeAttribute()
    current_offer_id = UnicodeAttribute(null=True)
    offered_entry_ids: JSONAttribute = JSONAttribute(default=list)
    round_sk = UnicodeAttribute(default="")


class FreedRoundItem(TableItem, discriminator="WaitlistRound"):
    """One freeing of a time, for the waitlist report: how many offers it took, when it filled."""

    provider_id = UnicodeAttribute()
    start = UnicodeAttribute()
    round = NumberAttribute()
    freed_at = UTCDateTimeAttribute()
    offers = NumberAttribute(default=0)
    filled_at = UTCDateTimeAttribute(null=True)


class WaitlistOfferItem(TableItem, discriminator="WaitlistOffer"):
    """An offer; while it holds the time it also sits in the occupancy index (gsi1), so
    availability and booking see the held time exactly as they see a pending hold."""

    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi2 = Gsi2()
    offer_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    occupied_start = UnicodeAttribute()
    occupied_end = UnicodeAttribute()
    status = UnicodeAttribute()
    score = NumberAttribute(default=0)
    score_parts: JSONAttribute = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    expires_at_instant = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)
    client_email = UnicodeAttribute(default="")
    token_hash = UnicodeAttribute(null=True)
    round = NumberAttribute(default=1)
    round_sk = UnicodeAttribute(default="")


class WaitlistQueuedItem(TableItem, discriminator="WaitlistQueued"):
    """An offer whose mail waits for the tenant's hourly allowance, in creation order."""

    offer_id = UnicodeAttribute()


class CalendarConnectionItem(TableItem, discriminator="CalendarConnection"):
    """A provider's Google Calendar grant (refresh token KMS-encrypted), sync token and watch channel."""

    tenant_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    status = UnicodeAttribute()
    calendar_id = UnicodeAttribute(default="primary")
    calendar_name = UnicodeAttribute(null=True)
    refresh_token_ciphertext = UnicodeAttribute(null=True)
    sync_token = UnicodeAttribute(null=True)
    last_sync_at = UTCDateTimeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    resource_id = UnicodeAttribute(null=True)
    channel_token_hash = UnicodeAttribute(null=True)
    watch_expires_at = UTCDateTimeAttribute(null=True)
    connected_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class CalendarChannelItem(TableItem, discriminator="CalendarChannel"):
    """Platform registry: a watch channel id -> its tenant and provider (notifications carry nothing else)."""

    tenant_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()


class CalendarEventItem(TableItem, discriminator="CalendarEvent"):
    """An external event of a provider's calendar that blocks time: where its busy pieces are."""

    provider_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    piece_keys: JSONAttribute = JSONAttribute(default=list)


class BusyVersionItem(TableItem, discriminator="BusyVersion"):
    """Bumped before every change of a provider's busy time; a booking checks it is still the
    version it read with the busy time, so a sync landing in between makes the booking retry."""

    version = NumberAttribute(default=0)


class BusyPieceItem(TableItem, discriminator="BusyPiece"):
    """At most a day of one external busy block, in the tenant's busy partition, by start."""

    provider_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    start = UnicodeAttribute()
    end = UnicodeAttribute()
