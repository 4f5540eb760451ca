"""Tenants, their slugs and their API keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.domain.credentials import IssuedKey, KeyKind
from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError, NotFoundError
from chalicelib.domain.tenant import ApiKeyRecord, Tenant
from chalicelib.store import keys, read_memo
from chalicelib.store.codec import invoicing_from_data, invoicing_to_data, policy_from_data, policy_to_data
from chalicelib.store.models import ApiKeyItem, SlugItem, TableItem, TenantItem, version_kwargs
from chalicelib.store.table import ensure_bound, failed_positions, is_condition_failure, transaction
from chalicelib.store.tombstones import tombstone


def _to_item(tenant: Tenant) -> TenantItem:
    return TenantItem(
        keys.tenant_pk(tenant.id),
        keys.TENANT_SK,
        tenant_id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        timezone=tenant.timezone,
        currency=tenant.currency,
        email=tenant.email,
        settings={
            "branding": tenant.branding,
            "slotIntervalMinutes": tenant.slot_interval_minutes,
            "minNoticeMinutes": tenant.min_notice_minutes,
            "maxAdvanceDays": tenant.max_advance_days,
            "reminderOffsetsMinutes": list(tenant.reminder_offsets_minutes),
            "defaultCancellationPolicy": policy_to_data(tenant.default_cancellation_policy),
            "taxRateBps": tenant.tax_rate_bps,
            "smsEnabled": tenant.sms_enabled,
            "stripeAccountId": tenant.stripe_account_id,
            "invoicing": invoicing_to_data(tenant.invoicing),
            "allowedOrigins": list(tenant.allowed_origins),
            "waitlist": {
                "offerMinutes": tenant.waitlist_offer_minutes,
                "offersPerHour": tenant.waitlist_offers_per_hour,
                "weights": tenant.waitlist_weights,
            },
        },
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
        **version_kwargs(tenant.version),
    )


def _from_item(item: TenantItem) -> Tenant:
    settings = item.settings or {}
    return Tenant(
        id=item.tenant_id,
        name=item.name,
        slug=item.slug,
        timezone=item.timezone,
        currency=item.currency,
        email=item.email,
        created_at=item.created_at,
        updated_at=item.updated_at,
        branding=dict(settings.get("branding") or {}),
        slot_interval_minutes=int(settings["slotIntervalMinutes"]),
        min_notice_minutes=int(settings["minNoticeMinutes"]),
        max_advance_days=int(settings["maxAdvanceDays"]),
        reminder_offsets_minutes=tuple(int(v) for v in settings["reminderOffsetsMinutes"]),
        default_cancellation_policy=policy_from_data(settings.get("defaultCancellationPolicy")),
        tax_rate_bps=int(settings.get("taxRateBps", 0)),
        sms_enabled=bool(settings.get("smsEnabled", False)),
        stripe_account_id=settings.get("stripeAccountId"),
        **invoicing_from_data(settings.get("invoicing")),
        allowed_origins=tuple(str(o) for o in settings.get("allowedOrigins") or ()),
        **_waitlist_from_data(settings.get("waitlist")),
        version=int(item.version or 0),
    )


def _waitlist_from_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """Tenants stored before the waitlist existed read with its defaults."""
    if not data:
        return {}
    return {
        "waitlist_offer_minutes": int(data.get("offerMinutes", 15)),
        "waitlist_offers_per_hour": int(data.get("offersPerHour", 25)),
        "waitlist_weights": {str(k): float(v) for k, v in (data.get("weights") or {}).items()},
    }


def _key_item(key: IssuedKey, created_at: datetime) -> ApiKeyItem:
    return ApiKeyItem(
        keys.tenant_pk(key.tenant_id),
        keys.api_key_sk(key.hash),
        tenant_id=key.tenant_id,
        key_id=key.key_id,
        kind=key.kind.value,
        key_hash=key.hash,
        created_at=created_at,
    )


class TenantRepository:
    """The only code that reads or writes tenant, slug and key items."""

    def create(self, tenant: Tenant, issued: list[IssuedKey]) -> Tenant:
        """Tenant, slug claim and keys in one transaction; a taken slug is a ConflictError."""
        ensure_bound()
        try:
            with transaction() as tx:
                tx.save(
                    SlugItem(keys.slug_pk(tenant.slug), keys.SLUG_SK, tenant_id=tenant.id),
                    condition=SlugItem.pk.does_not_exist(),
                )
                tx.save(_to_item(tenant), condition=TenantItem.pk.does_not_exist())
                for key in issued:
                    tx.save(_key_item(key, tenant.created_at), condition=ApiKeyItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if is_condition_failure(exc) and 0 in failed_positions(exc):
                raise ConflictError("That slug is taken.", {"field": "slug"}) from exc
            raise
        return replace(tenant, version=1)

    def get(self, tenant_id: str) -> Tenant:
        return read_memo.read(("tenant", tenant_id), lambda: self._load(tenant_id))

    def _load(self, tenant_id: str) -> Tenant:
        ensure_bound()
        try:
            item = TenantItem.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
        except DoesNotExist as exc:
            raise NotFoundError("No such tenant.") from exc
        return _from_item(item)

    def tenant_id_for_slug(self, slug: str) -> str:
        ensure_bound()
        try:
            return SlugItem.get(keys.slug_pk(slug), keys.SLUG_SK).tenant_id
        except DoesNotExist as exc:
            raise NotFoundError("No such business.") from exc

    def save(self, tenant: Tenant) -> Tenant:
        """Conditional on the version read; someone else's write in between is a ConcurrentUpdateError."""
        ensure_bound()
        read_memo.forget(("tenant", tenant.id))
        item = _to_item(tenant)
        try:
            item.save()
        except PutError as exc:
            if is_condition_failure(exc):
                raise ConcurrentUpdateError("The settings changed meanwhile; read them again.") from exc
            raise
        return replace(tenant, version=int(item.version or 0))

    def tenant_with_keys(self, tenant_id: str) -> tuple[Tenant, list[ApiKeyRecord]] | None:
        """The tenant and its key records in ONE query (authentication runs on every request)."""
        ensure_bound()
        tenant: Tenant | None = None
        records: list[ApiKeyRecord] = []
        for item in TableItem.query(keys.tenant_pk(tenant_id)):
            if isinstance(item, TenantItem):
                tenant = _from_item(item)
            elif isinstance(item, ApiKeyItem):
                records.append(ApiKeyRecord(item.tenant_id, item.key_id, item.kind, item.key_hash, item.created_at))
        return (tenant, records) if tenant is not None else None

    def rotate_secret_key(self, tenant_id: str, new_key: IssuedKey, presented_hash: str, now: datetime) -> None:
        """Revoke every secret key of the tenant and store `new_key`, atomically.

        The presented key must still exist when the transaction commits, so two rotations
        racing with the same old key leave exactly one new key.
        """
        ensure_bound()
        current = [
            item
            for item in ApiKeyItem.query(keys.tenant_pk(tenant_id), ApiKeyItem.sk.startswith(keys.KEY_PREFIX))
            if item.kind == KeyKind.SECRET.value
        ]
        if presented_hash not in {item.key_hash for item in current}:
            raise ConflictError("This key was rotated meanwhile.")
        try:
            with transaction() as tx:
                for item in current:
                    tx.delete(item, condition=ApiKeyItem.pk.exists())
                    tx.save(tombstone(tenant_id, "api_key", item.key_id, now, {"kind": item.kind, "revoked": True}))
                tx.save(_key_item(new_key, now), condition=ApiKeyItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise ConflictError("This key was rotated meanwhile.") from exc
            raise
