"""Opening tenants, changing their settings, rotating their keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.credentials import KeyKind, hash_secret, issue_key
from chalicelib.domain.ids import new_id
from chalicelib.domain.tenant import TENANT_ID_PREFIX, NewTenant, Tenant
from chalicelib.store.tenants import TenantRepository


@dataclass(frozen=True)
class OpenedTenant:
    """The new tenant and its two keys in plain text: the only time they are ever shown."""

    tenant: Tenant
    secret_key: str
    publishable_key: str


class TenantService:
    def __init__(self, tenants: TenantRepository, clock: Callable[[], datetime]) -> None:
        self._tenants = tenants
        self._clock = clock

    def open_tenant(self, new: NewTenant) -> OpenedTenant:
        now = self._clock()
        tenant = Tenant(
            id=new_id(TENANT_ID_PREFIX),
            name=new.name,
            slug=new.slug,
            timezone=new.timezone,
            currency=new.currency,
            email=new.email,
            created_at=now,
            updated_at=now,
        )
        secret = issue_key(KeyKind.SECRET, tenant.id)
        publishable = issue_key(KeyKind.PUBLISHABLE, tenant.id)
        stored = self._tenants.create(tenant, [secret, publishable])
        return OpenedTenant(stored, secret.plaintext, publishable.plaintext)

    def save_settings(self, updated: Tenant) -> Tenant:
        """Conditional on the version the caller read (409 when someone else wrote first)."""
        return self._tenants.save(updated)

    def rotate_secret_key(self, tenant_id: str, presented_key: str) -> str:
        """Issue a new secret key and revoke the old one(s) atomically; returns the new key once."""
        new_key = issue_key(KeyKind.SECRET, tenant_id)
        self._tenants.rotate_secret_key(tenant_id, new_key, hash_secret(presented_key), self._clock())
        return new_key.plaintext
