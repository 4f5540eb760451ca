"""Every key of the single table, and the access pattern each one serves.

Partition keys start with the tenant (`T#<tenantId>`), so no query can cross tenants by
construction. The one exception is the platform's slug registry (`SLUG#<slug>`), which
exists to make slugs unique across tenants and to resolve a hosted page's slug to its
tenant; it holds nothing but the tenant id.

| item          | pk          | sk                           | access pattern                                  |
|---------------|-------------|------------------------------|-------------------------------------------------|
| tenant        | T#<t>       | TENANT                       | load a tenant's profile and settings            |
| api key       | T#<t>       | KEY#<sha256>                 | authenticate a key: read T#<t> whole, compare   |
|               |             |                              | hashes in constant time; rotate (begins_with)   |
| slug claim    | SLUG#<slug> | SLUG                         | unique slugs; hosted page slug -> tenant        |
| service       | T#<t>#CAT   | SVC#<serviceId>              | get one; list all (begins_with SVC#)            |
| provider      | T#<t>#CAT   | PRV#<providerId>             | get one; list all (begins_with PRV#)            |
| weekly rules  | T#<t>#CAT   | AVR#<providerId>             | get a provider's rules                          |
| date override | T#<t>#CAT   | OVR#<providerId>#<date>#<id> | a provider's overrides, in date order           |

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


def override_sk(provider_id: str, day: date, override_id: str) -> str:
    return f"{overrides_prefix(provider_id)}{day.isoformat()}#{override_id}"
