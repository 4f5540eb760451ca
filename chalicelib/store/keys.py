"""Every key of the single table, and the access pattern each one serves.

Partition keys start with the tenant (`T#<tenantId>`), so no query can cross tenants by
construction. The exceptions are the platform's registries: `SLUG#<slug>` (slugs unique across tenants;
a hosted page's slug -> its tenant) and `STRIPEACCT#<account>` (a connected account's
webhooks -> its tenant). They hold nothing but the tenant id.

| item          | pk          | sk                           | access pattern                                  |
|---------------|-------------|------------------------------|-------------------------------------------------|
| tenant        | T#<t>       | TENANT                       | load a tenant's profile and settings            |
| api key       | T#<t>       | KEY#<sha256>                 | authenticate a key: read T#<t> whole, compare   |
|               |             |                              | hashes in constant time; rotate (begins_with)   |
| slug claim    | SLUG#<slug> | SLUG                         | unique slugs; hosted page slug -> tenant        |
| service       | T#<t>#CAT   | SVC#<serviceId>              | get one; list all (begins_with SVC#)            |
| provider      | T#<t>#CAT   | PRV#<providerId>             | get one; list all (begins_with PRV#)            |
| weekly rules  | T#<t>#CAT   | AVR#<providerId>             | get a provider's rules                          |
| date override | T#<t>#CAT   | OVR#<providerId>#<date>      | a provider's overrides, in date order; one per  |
|               |             |                              | date by construction (a new one overwrites)     |
| appointment   | T#<t>#APPT#<id> | APPT                     | get one by id                                   |
|   gsi1        | T#<t>#OCC   | <occupiedStart>#<id>         | appointments holding time (pending, confirmed,  |
|               |             |                              | completed, no-show) in a range: ONE query       |
|   gsi2        | T#<t>#APPTS | <start>#<id>                 | every appointment by start (admin list, reports)|
| action token  | T#<t>#APPT#<id> | TOKEN#<sha256>           | a presented self-service token (GetItem by hash)|
| lock quantum  | T#<t>#LOCK#<providerId> | <quantumStart>   | claimed in the booking transaction (no overlap) |
| class session | T#<t>#SES#<providerId>#<serviceId>#<start> | SESSION | seat counter (seats < capacity) |
| attendee      | (same as session) | ATT#<sha256(email)>    | one seat per client email per session           |
| idempotency   | T#<t>#IDEM#<sha256(key)> | IDEM            | a retried create returns the first appointment  |
| client        | T#<t>#CLI#<sha256(email)> | CLIENT         | the tenant's client record                      |
| effect        | T#<t>#APPT#<id> | FX#<version>#<effect>    | a side effect claimed/done once per version     |
| audit entry   | T#<t>#AUDIT | <at>#<streamSeq>#<entryId>   | the tenant's audit trail by time (paged)        |
|   gsi1        | T#<t>#AUDIT#<entityId> | (same as sk)      | one entity's audit trail                        |
| tombstone     | T#<t>#TOMB  | <at>#<entityId>              | who deleted what (TTL 1 day; feeds the audit)   |
| suppression   | T#<t>#SUPP#<sha256(email)> | SUPPRESSED    | bounced/complained address: no more mail        |
| money         | T#<t>#APPT#<id> | MONEY                    | paid / refunded / refundable running totals     |
| ledger entry  | T#<t>#APPT#<id> | LEDGER#<at>#<entryId>    | an appointment's payments (GET .../payments)    |
|   gsi2        | T#<t>#LEDGER | <at>#<entryId>              | every ledger entry by time (revenue reports)    |
| refund request| T#<t>#APPT#<id> | REFUND#<requestId>       | written before the SQS message; worker's state  |
| stripe event  | T#<t>#STRIPE_EVT#<eventId> | EVENT         | each webhook event applied once                 |
| stripe account| STRIPEACCT#<accountId> | ACCOUNT           | platform registry: connected account -> tenant  |
| invoice       | T#<t>#INV#<invoiceId> | INVOICE            | get one by id (invoices and credit notes)       |
|   gsi1        | T#<t>#INVOICES | <issuedAt>#<id>           | every document by issue date (admin list)       |
|   gsi2        | T#<t>#INVOICES#<kind> | <issuedAt>#<id>    | one kind by issue date (`?kind=`)               |
| invoice claim | T#<t>#APPT#<id> | INVOICE                  | one invoice per appointment (holds its id)      |
| credit claim  | T#<t>#APPT#<id> | CREDIT#<refundId>        | one credit note per refund (holds its id)       |
| doc counter   | T#<t>#DOCSEQ#<kind>#<year> | COUNTER       | last number of a series; claimed in the         |
|               |             |                              | invoice's own transaction (no gaps, no repeats) |
| calendar conn | T#<t>#GCAL#<providerId> | CONN             | a provider's Google grant, sync token, channel  |
|   gsi1        | GCAL#CONNECTIONS | <t>#<providerId>        | platform: every connection (the 15-minute poll) |
| calendar event| T#<t>#GCAL#<providerId> | EVT#<eventId>    | an external busy event -> its busy pieces       |
| busy piece    | T#<t>#BUSY  | <pieceStart>#<providerId>#<eventId>#<n> | busy time in a range: ONE query (pieces |
|               |             |                              | <= 1 day, so look back one day)                 |
| gcal channel  | GCALCHAN#<channelId> | CHANNEL             | platform: watch notification -> tenant/provider |

The tenant partition `T#<t>` holds only the profile and the keys: authentication reads
it whole with one query on every request, so nothing else may be put there.
The whole catalog (services, providers, rules, overrides) shares one partition so that
availability reads it with ONE query whatever the number of providers; overrides carry a
TTL a week after their date so the partition does not grow with history.
"""

from __future__ import annotations

from datetime import date

TENANT_SK = "TENANT"
SLUG_SK = "SLUG"
SERVICE_PREFIX = "SVC#"
PROVIDER_PREFIX = "PRV#"
RULES_PREFIX = "AVR#"
OVERRIDE_PREFIX = "OVR#"
KEY_PREFIX = "KEY#"


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def catalog_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#CAT"


def slug_pk(slug: str) -> str:
    return f"SLUG#{slug}"


def api_key_sk(key_hash: str) -> str:
    return f"{KEY_PREFIX}{key_hash}"


def service_sk(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


def provider_sk(provider_id: str) -> str:
    return f"{PROVIDER_PREFIX}{provider_id}"


def rules_sk(provider_id: str) -> str:
    return f"{RULES_PREFIX}{provider_id}"


def overrides_prefix(provider_id: str) -> str:
    return f"{OVERRIDE_PREFIX}{provider_id}#"


def override_sk(provider_id: str, day: date) -> str:
    """Keyed by date, not by override id: two overrides of one date cannot coexist, even when added at once."""
    return f"{overrides_prefix(provider_id)}{day.isoformat()}"


OCCUPANCY_INDEX_PREFIX = "OCC"
APPOINTMENT_SK = "APPT"
TOKEN_PREFIX = "TOKEN#"  # noqa: S105 (a key prefix)
SESSION_SK = "SESSION"
ATTENDEE_PREFIX = "ATT#"
IDEMPOTENCY_SK = "IDEM"
CLIENT_SK = "CLIENT"


def appointment_pk(tenant_id: str, appointment_id: str) -> str:
    return f"T#{tenant_id}#APPT#{appointment_id}"


def occupancy_gsi_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#OCC"


def appointments_gsi_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#APPTS"


def time_sort_key(instant_iso: str, item_id: str) -> str:
    return f"{instant_iso}#{item_id}"


def token_sk(token_hash: str) -> str:
    return f"{TOKEN_PREFIX}{token_hash}"


def lock_pk(tenant_id: str, provider_id: str) -> str:
    return f"T#{tenant_id}#LOCK#{provider_id}"


def session_pk(tenant_id: str, provider_id: str, service_id: str, start_iso: str) -> str:
    return f"T#{tenant_id}#SES#{provider_id}#{service_id}#{start_iso}"


def attendee_sk(email_hash: str) -> str:
    return f"{ATTENDEE_PREFIX}{email_hash}"


def idempotency_pk(tenant_id: str, key_hash: str) -> str:
    return f"T#{tenant_id}#IDEM#{key_hash}"


def client_pk(tenant_id: str, email_hash: str) -> str:
    return f"T#{tenant_id}#CLI#{email_hash}"


def client_counted_sk(entry_id: str) -> str:
    return f"COUNTED#{entry_id}"


EFFECT_PREFIX = "FX#"
SUPPRESSED_SK = "SUPPRESSED"


def effect_sk(version: int, effect: str) -> str:
    return f"{EFFECT_PREFIX}{version:08d}#{effect}"


def audit_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#AUDIT"


def entity_audit_gsi_pk(tenant_id: str, entity_id: str) -> str:
    return f"T#{tenant_id}#AUDIT#{entity_id}"


def tombstone_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#TOMB"


def suppression_pk(tenant_id: str, email_hash: str) -> str:
    return f"T#{tenant_id}#SUPP#{email_hash}"


def tenant_of(pk: str) -> str | None:
    """The tenant id a partition key belongs to (None for the platform's slug registry)."""
    if not pk.startswith("T#"):
        return None
    return pk[2:].split("#", 1)[0]


MONEY_SK = "MONEY"
LEDGER_PREFIX = "LEDGER#"
REFUND_PREFIX = "REFUND#"
EVENT_SK = "EVENT"
ACCOUNT_SK = "ACCOUNT"


def ledger_sk(at_iso: str, entry_id: str) -> str:
    return f"{LEDGER_PREFIX}{at_iso}#{entry_id}"


def ledger_gsi_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#LEDGER"


def refund_sk(request_id: str) -> str:
    return f"{REFUND_PREFIX}{request_id}"


def stripe_event_pk(tenant_id: str, event_id: str) -> str:
    return f"T#{tenant_id}#STRIPE_EVT#{event_id}"


def stripe_account_pk(account_id: str) -> str:
    return f"STRIPEACCT#{account_id}"


INVOICE_SK = "INVOICE"
COUNTER_SK = "COUNTER"
CREDIT_PREFIX = "CREDIT#"


def invoice_pk(tenant_id: str, invoice_id: str) -> str:
    return f"T#{tenant_id}#INV#{invoice_id}"


def invoices_gsi_pk(tenant_id: str, kind: str | None = None) -> str:
    return f"T#{tenant_id}#INVOICES" + (f"#{kind}" if kind else "")


def credit_claim_sk(refund_id: str) -> str:
    return f"{CREDIT_PREFIX}{refund_id}"


def document_counter_pk(tenant_id: str, kind: str, year: int) -> str:
    return f"T#{tenant_id}#DOCSEQ#{kind}#{year}"


# --- waitlist (issue 13) ----------------------------------------------------------------------
# | entry         | T#<t>#WL               | ENTRY#<entryId>           | admin list (one query), a join's entries |
# | active count  | T#<t>#WLCLI#<sha(email)> | ACTIVE                  | at most 3 active entries per email       |
# | freed slot    | T#<t>#WLSLOT#<prv>#<start> | SLOT                  | at most one open offer per freed time    |
# | freed round   | T#<t>#WLFREED          | <freedAt>#<prv>#<start>#<n> | the waitlist report, by freeing time   |
# | offer         | T#<t>#WLO#<offerId>    | OFFER                     | get one by id                            |
# |   gsi1        | T#<t>#OCC              | <occupiedStart>#<offerId> | held time, while queued or open          |
# |   gsi2        | T#<t>#WLOFFERS         | <createdAt>#<offerId>     | the waitlist report, by creation time    |
# | queued offer  | T#<t>#WLQUEUE          | <createdAt>#<offerId>     | mails waiting for the hourly allowance   |
# | mail counter  | T#<t>#WLRATE           | <hourStart>               | offer mails sent in one clock hour       |
WAITLIST_ENTRY_PREFIX = "ENTRY#"
WAITLIST_ACTIVE_SK = "ACTIVE"
FREED_SLOT_SK = "SLOT"
OFFER_SK = "OFFER"


def waitlist_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WL"


def waitlist_entry_sk(entry_id: str) -> str:
    return f"{WAITLIST_ENTRY_PREFIX}{entry_id}"


def waitlist_active_pk(tenant_id: str, email_hash: str) -> str:
    return f"T#{tenant_id}#WLCLI#{email_hash}"


def freed_slot_pk(tenant_id: str, provider_id: str, start_iso: str) -> str:
    return f"T#{tenant_id}#WLSLOT#{provider_id}#{start_iso}"


def freed_rounds_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WLFREED"


def freed_round_sk(freed_at_iso: str, provider_id: str, start_iso: str, round_number: int) -> str:
    return f"{freed_at_iso}#{provider_id}#{start_iso}#{round_number:06d}"


def offer_pk(tenant_id: str, offer_id: str) -> str:
    return f"T#{tenant_id}#WLO#{offer_id}"


def offers_gsi_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WLOFFERS"


def offer_queue_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WLQUEUE"


def offer_rate_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WLRATE"


CONNECTION_SK = "CONN"
CALENDAR_EVENT_PREFIX = "EVT#"
CHANNEL_SK = "CHANNEL"
CONNECTIONS_GSI_PK = "GCAL#CONNECTIONS"


def calendar_pk(tenant_id: str, provider_id: str) -> str:
    return f"T#{tenant_id}#GCAL#{provider_id}"


def calendar_event_sk(event_id: str) -> str:
    return f"{CALENDAR_EVENT_PREFIX}{event_id}"


def busy_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#BUSY"


def busy_versions_pk(tenant_id: str) -> str:
    """One item per provider (sk = provider id) whose `version` every change of its busy time bumps."""
    return f"T#{tenant_id}#BUSYVER"


def busy_piece_sk(start_iso: str, provider_id: str, event_id: str, n: int) -> str:
    return f"{start_iso}#{provider_id}#{event_id}#{n}"


def channel_pk(channel_id: str) -> str:
    return f"GCALCHAN#{channel_id}"
