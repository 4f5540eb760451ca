"""Services, providers and their availability rules, as a tenant admin edits them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.catalog import DateOverride, Provider, Service, WeeklyAvailability
from chalicelib.domain.errors import ConcurrentUpdateError, RuleViolationError
from chalicelib.domain.ids import new_id
from chalicelib.domain.tenant import Tenant
from chalicelib.store.catalog import CatalogRepository

MAX_EDIT_ATTEMPTS = 3
ServiceEdit = Callable[[Service], Service]
ProviderEdit = Callable[[Provider], Provider]


class CatalogService:
    def __init__(self, catalog: CatalogRepository, clock: Callable[[], datetime]) -> None:
        self._catalog = catalog
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    @staticmethod
    def new_service_id() -> str:
        return new_id("svc_")

    @staticmethod
    def new_provider_id() -> str:
        return new_id("prv_")

    # services
    def create_service(self, tenant: Tenant, service: Service) -> Service:
        if not service.currency:
            service = replace(service, currency=tenant.currency)
        return self._catalog.save_service(tenant.id, service)

    def get_service(self, tenant_id: str, service_id: str) -> Service:
        return self._catalog.get_service(tenant_id, service_id)

    def list_services(self, tenant_id: str) -> list[Service]:
        return sorted(self._catalog.list_services(tenant_id), key=lambda s: (s.name.lower(), s.id))

    def update_service(self, tenant_id: str, service_id: str, edit: ServiceEdit) -> Service:
        """Read, apply `edit`, write conditionally; a concurrent writer makes us re-read and re-apply."""
        for attempt in range(MAX_EDIT_ATTEMPTS):
            current = self._catalog.get_service(tenant_id, service_id)
            try:
                return self._catalog.save_service(tenant_id, edit(current))
            except ConcurrentUpdateError:
                if attempt == MAX_EDIT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def delete_service(self, tenant_id: str, service_id: str) -> None:
        """Also removes the service from providers and rules that name it (see the repository)."""
        for attempt in range(MAX_EDIT_ATTEMPTS):
            try:
                self._catalog.delete_service(tenant_id, service_id)
                return
            except ConcurrentUpdateError:
                if attempt == MAX_EDIT_ATTEMPTS - 1:
                    raise

    # providers
    def create_provider(self, tenant_id: str, provider: Provider) -> Provider:
        self._require_services(tenant_id, provider.service_ids)
        return self._catalog.save_provider(tenant_id, provider)

    def get_provider(self, tenant_id: str, provider_id: str) -> Provider:
        return self._catalog.get_provider(tenant_id, provider_id)

    def list_providers(self, tenant_id: str) -> list[Provider]:
        return sorted(self._catalog.list_providers(tenant_id), key=lambda p: (p.name.lower(), p.id))

    def update_provider(self, tenant_id: str, provider_id: str, edit: ProviderEdit) -> Provider:
        for attempt in range(MAX_EDIT_ATTEMPTS):
            current = self._catalog.get_provider(tenant_id, provider_id)
            updated = edit(current)
            if set(updated.service_ids) - set(current.service_ids):
                self._require_services(tenant_id, updated.service_ids)
            try:
                return self._catalog.save_provider(tenant_id, updated)
            except ConcurrentUpdateError:
                if attempt == MAX_EDIT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def delete_provider(self, tenant_id: str, provider_id: str) -> None:
        self._catalog.delete_provider(tenant_id, provider_id)

    def _require_services(self, tenant_id: str, service_ids: tuple[str, ...]) -> None:
        known = {service.id for service in self._catalog.list_services(tenant_id)}
        unknown = [sid for sid in service_ids if sid not in known]
        if unknown:
            raise RuleViolationError("Some services do not exist.", {"fields": {"serviceIds": unknown}})

    # availability rules and overrides
    def get_rules(self, tenant_id: str, provider_id: str) -> WeeklyAvailability:
        self._catalog.get_provider(tenant_id, provider_id)
        return self._catalog.get_rules(tenant_id, provider_id)

    def replace_rules(self, tenant_id: str, availability: WeeklyAvailability) -> WeeklyAvailability:
        """PUT semantics: the new rules replace the old ones whatever their version."""
        self._catalog.get_provider(tenant_id, availability.provider_id)
        service_ids = tuple({sid for rule in availability.rules for sid in (rule.service_ids or ())})
        self._require_services(tenant_id, service_ids)
        for attempt in range(MAX_EDIT_ATTEMPTS):
            current = self.get_rules(tenant_id, availability.provider_id)
            try:
                return self._catalog.save_rules(tenant_id, replace(availability, version=current.version))
            except ConcurrentUpdateError:
                if attempt == MAX_EDIT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def add_override(self, tenant_id: str, override: DateOverride) -> DateOverride:
        self._catalog.get_provider(tenant_id, override.provider_id)
        return self._catalog.add_override(tenant_id, override)

    def list_overrides(self, tenant_id: str, provider_id: str) -> list[DateOverride]:
        self._catalog.get_provider(tenant_id, provider_id)
        return self._catalog.list_overrides(tenant_id, provider_id)

    def delete_override(self, tenant_id: str, provider_id: str, override_id: str) -> None:
        self._catalog.get_provider(tenant_id, provider_id)
        self._catalog.delete_override(tenant_id, provider_id, override_id)

    # public
    def public_services(self, tenant_id: str) -> list[tuple[Service, list[str]]]:
        """Active services that at least one active provider offers, with those providers' ids."""
        snapshot = self._catalog.snapshot(tenant_id)
        listed = []
        for service in sorted(snapshot.services.values(), key=lambda s: (s.name.lower(), s.id)):
            if not service.active:
                continue
            provider_ids = sorted(p.id for p in snapshot.providers.values() if p.offers(service.id))
            if provider_ids:
                listed.append((service, provider_ids))
        return listed
