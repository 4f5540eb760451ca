"""Services, providers, weekly rules and date overrides: one partition per tenant."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.domain.catalog import (
    AvailabilityRule,
    DateOverride,
    Prepayment,
    Provider,
    Service,
    WeeklyAvailability,
    default_prepayment,
)
from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import ConcurrentUpdateError, NotFoundError
from chalicelib.store import keys, read_memo
from chalicelib.store.codec import (
    intake_from_data,
    intake_to_data,
    policy_from_data,
    policy_to_data,
    ranges_from_data,
    ranges_to_data,
    rules_from_data,
    rules_to_data,
)
from chalicelib.store.models import OverrideItem, ProviderItem, RulesItem, ServiceItem, TableItem, version_kwargs
from chalicelib.store.table import ensure_bound, is_condition_failure, transaction
from chalicelib.store.tombstones import tombstone

OVERRIDE_RETENTION = timedelta(days=7)
Versioned = TypeVar("Versioned", ServiceItem, ProviderItem, RulesItem)


@dataclass(frozen=True)
class CatalogSnapshot:
    """Everything availability needs from the catalog, read with one query."""

    services: dict[str, Service]
    providers: dict[str, Provider]
    rules: dict[str, WeeklyAvailability]
    overrides: dict[str, list[DateOverride]]


def _service_item(tenant_id: str, service: Service) -> ServiceItem:
    return ServiceItem(
        keys.catalog_pk(tenant_id),
        keys.service_sk(service.id),
        service_id=service.id,
        name=service.name,
        description=service.description,
        duration_minutes=service.duration_minutes,
        buffer_before_minutes=service.buffer_before_minutes,
        buffer_after_minutes=service.buffer_after_minutes,
        slot_interval_minutes=service.slot_interval_minutes,
        price_cents=service.price_cents,
        currency=service.currency,
        deposit_cents=service.deposit_cents,
        deposit_percent=service.deposit_percent,
        capacity=service.capacity,
        no_show_fee_cents=service.no_show_fee_cents,
        prepayment=service.prepayment.value,
        active=service.active,
        intake_fields=intake_to_data(service.intake_fields),
        cancellation_policy=policy_to_data(service.cancellation_policy),
        created_at=service.created_at,
        updated_at=service.updated_at,
        **version_kwargs(service.version),
    )


def _service(item: ServiceItem) -> Service:
    deposit_cents = int(item.deposit_cents) if item.deposit_cents is not None else None
    deposit_percent = int(item.deposit_percent) if item.deposit_percent is not None else None
    return Service(
        id=item.service_id,
        name=item.name,
        description=item.description or "",
        duration_minutes=int(item.duration_minutes),
        buffer_before_minutes=int(item.buffer_before_minutes),
        buffer_after_minutes=int(item.buffer_after_minutes),
        slot_interval_minutes=int(item.slot_interval_minutes) if item.slot_interval_minutes is not None else None,
        price_cents=int(item.price_cents),
        currency=item.currency,
        deposit_cents=deposit_cents,
        deposit_percent=deposit_percent,
        capacity=int(item.capacity),
        no_show_fee_cents=int(item.no_show_fee_cents) if item.no_show_fee_cents is not None else None,
        active=bool(item.active),
        intake_fields=intake_from_data(item.intake_fields),
        cancellation_policy=policy_from_data(item.cancellation_policy),
        # Services written before `prepayment` existed read with its default.
        prepayment=Prepayment(item.prepayment)
        if item.prepayment
        else default_prepayment(deposit_cents, deposit_percent),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def _provider_item(tenant_id: str, provider: Provider) -> ProviderItem:
    return ProviderItem(
        keys.catalog_pk(tenant_id),
        keys.provider_sk(provider.id),
        provider_id=provider.id,
        name=provider.name,
        email=provider.email,
        timezone=provider.timezone,
        service_ids=list(provider.service_ids),
        active=provider.active,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
        **version_kwargs(provider.version),
    )


def _provider(item: ProviderItem) -> Provider:
    return Provider(
        id=item.provider_id,
        name=item.name,
        email=item.email,
        timezone=item.timezone,
        service_ids=tuple(item.service_ids or ()),
        active=bool(item.active),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def _rules(item: RulesItem) -> WeeklyAvailability:
    return WeeklyAvailability(item.provider_id, rules_from_data(item.rules), int(item.version or 0))


def _override(item: OverrideItem) -> DateOverride:
    return DateOverride(
        item.override_id, item.provider_id, date.fromisoformat(item.date), ranges_from_data(item.intervals)
    )


def _rules_item(tenant_id: str, availability: WeeklyAvailability) -> RulesItem:
    return RulesItem(
        keys.catalog_pk(tenant_id),
        keys.rules_sk(availability.provider_id),
        provider_id=availability.provider_id,
        rules=rules_to_data(availability.rules),
        **version_kwargs(availability.version),
    )


def _without_service(rules: tuple[AvailabilityRule, ...], service_id: str) -> tuple[AvailabilityRule, ...]:
    kept: list[AvailabilityRule] = []
    for rule in rules:
        if rule.service_ids is None or service_id not in rule.service_ids:
            kept.append(rule)
        elif len(rule.service_ids) > 1:
            kept.append(replace(rule, service_ids=tuple(sid for sid in rule.service_ids if sid != service_id)))
    return tuple(kept)


def _save_versioned(item: Versioned, what: str) -> int:
    try:
        item.save()
    except PutError as exc:
        if is_condition_failure(exc):
            raise ConcurrentUpdateError(f"The {what} changed meanwhile; read it again.") from exc
        raise
    return int(item.version or 0)


class CatalogRepository:
    """The only code that reads or writes catalog items. Every method takes the tenant id."""

    # services
    def save_service(self, tenant_id: str, service: Service) -> Service:
        ensure_bound()
        return replace(service, version=_save_versioned(_service_item(tenant_id, service), "service"))

    def get_service(self, tenant_id: str, service_id: str) -> Service:
        ensure_bound()
        try:
            return _service(ServiceItem.get(keys.catalog_pk(tenant_id), keys.service_sk(service_id)))
        except DoesNotExist as exc:
            raise NotFoundError("No such service.") from exc

    def list_services(self, tenant_id: str) -> list[Service]:
        ensure_bound()
        query = ServiceItem.query(keys.catalog_pk(tenant_id), ServiceItem.sk.startswith(keys.SERVICE_PREFIX))
        return [_service(item) for item in query]

    def delete_service(self, tenant_id: str, service_id: str) -> None:
        """Delete the service and, in the same transaction, take its id out of every provider and
        weekly rule that names it (a rule left naming no service is dropped)."""
        snapshot = self.snapshot(tenant_id)
        if service_id not in snapshot.services:
            raise NotFoundError("No such service.")
        pk = keys.catalog_pk(tenant_id)
        try:
            with transaction() as tx:
                doomed = snapshot.services[service_id]
                tx.save(tombstone(tenant_id, "service", service_id, utc_now(), {"name": doomed.name}))
                tx.delete(
                    ServiceItem(pk, keys.service_sk(service_id)),
                    condition=ServiceItem.pk.exists(),
                    add_version_condition=False,
                )
                for provider in snapshot.providers.values():
                    if service_id in provider.service_ids:
                        kept = tuple(sid for sid in provider.service_ids if sid != service_id)
                        tx.save(_provider_item(tenant_id, replace(provider, service_ids=kept)))
                for availability in snapshot.rules.values():
                    if any(service_id in (rule.service_ids or ()) for rule in availability.rules):
                        tx.save(
                            _rules_item(
                                tenant_id, replace(availability, rules=_without_service(availability.rules, service_id))
                            )
                        )
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise ConcurrentUpdateError("The catalog changed meanwhile; please retry.") from exc
            raise

    # providers
    def save_provider(self, tenant_id: str, provider: Provider) -> Provider:
        ensure_bound()
        read_memo.forget(("provider", tenant_id, provider.id))
        return replace(provider, version=_save_versioned(_provider_item(tenant_id, provider), "provider"))

    def get_provider(self, tenant_id: str, provider_id: str) -> Provider:
        return read_memo.read(("provider", tenant_id, provider_id), lambda: self._load_provider(tenant_id, provider_id))

    def _load_provider(self, tenant_id: str, provider_id: str) -> Provider:
        ensure_bound()
        try:
            return _provider(ProviderItem.get(keys.catalog_pk(tenant_id), keys.provider_sk(provider_id)))
        except DoesNotExist as exc:
            raise NotFoundError("No such provider.") from exc

    def list_providers(self, tenant_id: str) -> list[Provider]:
        ensure_bound()
        query = ProviderItem.query(keys.catalog_pk(tenant_id), ProviderItem.sk.startswith(keys.PROVIDER_PREFIX))
        return [_provider(item) for item in query]

    def delete_provider(self, tenant_id: str, provider_id: str) -> None:
        """The provider, its weekly rules and its overrides go together."""
        ensure_bound()
        read_memo.forget(("provider", tenant_id, provider_id))
        pk = keys.catalog_pk(tenant_id)
        overrides = list(OverrideItem.query(pk, OverrideItem.sk.startswith(keys.overrides_prefix(provider_id))))
        try:
            with transaction() as tx:
                tx.save(tombstone(tenant_id, "provider", provider_id, utc_now()))
                tx.delete(
                    ProviderItem(pk, keys.provider_sk(provider_id)),
                    condition=ProviderItem.pk.exists(),
                    add_version_condition=False,
                )
                tx.delete(RulesItem(pk, keys.rules_sk(provider_id)), add_version_condition=False)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise NotFoundError("No such provider.") from exc
            raise
        with OverrideItem.batch_write() as batch:
            for item in overrides:
                batch.delete(item)

    # weekly rules
    def get_rules(self, tenant_id: str, provider_id: str) -> WeeklyAvailability:
        ensure_bound()
        try:
            return _rules(RulesItem.get(keys.catalog_pk(tenant_id), keys.rules_sk(provider_id)))
        except DoesNotExist:
            return WeeklyAvailability(provider_id)

    def save_rules(self, tenant_id: str, availability: WeeklyAvailability) -> WeeklyAvailability:
        """Replace the rules; the provider must still exist when the write commits."""
        ensure_bound()
        pk = keys.catalog_pk(tenant_id)
        item = _rules_item(tenant_id, availability)
        try:
            with transaction() as tx:
                tx.condition_check(
                    ProviderItem, pk, keys.provider_sk(availability.provider_id), condition=ProviderItem.pk.exists()
                )
                tx.save(item)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise ConcurrentUpdateError("The provider or its rules changed meanwhile; read them again.") from exc
            raise
        return replace(availability, version=(availability.version or 0) + 1)

    # overrides
    def add_override(self, tenant_id: str, override: DateOverride) -> DateOverride:
        """Store an override; one already on that date is overwritten (same key), so a date has one at most."""
        ensure_bound()
        pk = keys.catalog_pk(tenant_id)
        expiry = datetime.combine(override.date, time(0), tzinfo=UTC) + OVERRIDE_RETENTION
        item = OverrideItem(
            pk,
            keys.override_sk(override.provider_id, override.date),
            override_id=override.id,
            provider_id=override.provider_id,
            date=override.date.isoformat(),
            intervals=ranges_to_data(override.intervals),
            expires_at=expiry,
        )
        try:
            with transaction() as tx:
                tx.condition_check(
                    ProviderItem, pk, keys.provider_sk(override.provider_id), condition=ProviderItem.pk.exists()
                )
                tx.save(item)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise NotFoundError("No such provider.") from exc
            raise
        return override

    def list_overrides(self, tenant_id: str, provider_id: str) -> list[DateOverride]:
        ensure_bound()
        query = OverrideItem.query(
            keys.catalog_pk(tenant_id), OverrideItem.sk.startswith(keys.overrides_prefix(provider_id))
        )
        return [_override(item) for item in query]

    def delete_override(self, tenant_id: str, provider_id: str, override_id: str) -> None:
        """Conditional on the id: an override that replaced this one meanwhile stays."""
        ensure_bound()
        for override in self.list_overrides(tenant_id, provider_id):
            if override.id == override_id:
                try:
                    with transaction() as tx:
                        tx.save(
                            tombstone(
                                tenant_id,
                                "date_override",
                                override_id,
                                utc_now(),
                                {"providerId": provider_id, "date": override.date.isoformat()},
                            )
                        )
                        tx.delete(
                            OverrideItem(keys.catalog_pk(tenant_id), keys.override_sk(provider_id, override.date)),
                            condition=OverrideItem.override_id == override_id,
                        )
                except TransactWriteError as exc:
                    if is_condition_failure(exc):
                        raise NotFoundError("No such override.") from exc
                    raise
                return
        raise NotFoundError("No such override.")

    # everything at once
    def snapshot(self, tenant_id: str) -> CatalogSnapshot:
        """The whole catalog partition in one (paginated) query."""
        ensure_bound()
        services: dict[str, Service] = {}
        providers: dict[str, Provider] = {}
        rules: dict[str, WeeklyAvailability] = {}
        overrides: dict[str, list[DateOverride]] = {}
        for item in TableItem.query(keys.catalog_pk(tenant_id)):
            if isinstance(item, ServiceItem):
                services[item.service_id] = _service(item)
            elif isinstance(item, ProviderItem):
                providers[item.provider_id] = _provider(item)
            elif isinstance(item, RulesItem):
                rules[item.provider_id] = _rules(item)
            elif isinstance(item, OverrideItem):
                overrides.setdefault(item.provider_id, []).append(_override(item))
        return CatalogSnapshot(services, providers, rules, overrides)
