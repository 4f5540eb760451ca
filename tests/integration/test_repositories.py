"""The tenant and catalog repositories on the emulator: conditional writes, races, partitions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TypeVar

import pytest

from chalicelib.domain.catalog import (
    AvailabilityRule,
    DateOverride,
    Prepayment,
    Provider,
    Service,
    TimeRange,
    WeeklyAvailability,
)
from chalicelib.domain.credentials import KeyKind, hash_secret, issue_key
from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError, NotFoundError
from chalicelib.domain.ids import new_id
from chalicelib.domain.tenant import Tenant
from chalicelib.store import keys
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.models import ServiceItem
from chalicelib.store.tenants import TenantRepository

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
T = TypeVar("T")


def _tenant(slug: str, tenant_id: str | None = None) -> Tenant:
    return Tenant(
        id=tenant_id or new_id("tn"),
        name=slug.title(),
        slug=slug,
        timezone="UTC",
        currency="USD",
        email=f"owner@{slug}.test",
        created_at=NOW,
        updated_at=NOW,
    )


def _service(name: str = "Consultation") -> Service:
    return Service(
        id=new_id("svc_"),
        name=name,
        description="",
        duration_minutes=60,
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        slot_interval_minutes=None,
        price_cents=5000,
        currency="USD",
        deposit_cents=None,
        deposit_percent=None,
        capacity=1,
        active=True,
        intake_fields=(),
        cancellation_policy=None,
        prepayment=Prepayment.NONE,
        created_at=NOW,
        updated_at=NOW,
    )


def _provider(service_ids: tuple[str, ...], name: str = "Dana") -> Provider:
    return Provider(
        id=new_id("prv_"),
        name=name,
        email="dana@acme.test",
        timezone=None,
        service_ids=service_ids,
        active=True,
        created_at=NOW,
        updated_at=NOW,
    )


def _race(count: int, attempt: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `attempt(i)` on `count` threads released together; collect results and exceptions."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcome = attempt(i)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        else:
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, failures


# --- services written before a field existed --------------------------------------------------


@pytest.mark.parametrize(
    ("deposit", "expected"), [({}, Prepayment.NONE), ({"deposit_cents": 1000}, Prepayment.DEPOSIT)]
)
def test_a_service_stored_without_prepayment_reads_with_the_default(
    aws: str, deposit: dict, expected: Prepayment
) -> None:
    # GIVEN a service item as it was written before `prepayment` existed
    repo = CatalogRepository()
    created = repo.save_service("tn1", replace(_service(), prepayment=Prepayment.FULL, **deposit))
    item = ServiceItem.get(keys.catalog_pk("tn1"), keys.service_sk(created.id))
    item.update(actions=[ServiceItem.prepayment.remove()])

    # WHEN it is read THEN its prepayment is the default for its deposit
    assert repo.get_service("tn1", created.id).prepayment is expected
    assert repo.snapshot("tn1").services[created.id].prepayment is expected


# --- optimistic locking ----------------------------------------------------------------------


def test_saving_a_stale_service_raises_concurrent_update(aws: str) -> None:
    repo = CatalogRepository()
    created = repo.save_service("tn1", _service())
    first_reader = repo.get_service("tn1", created.id)
    second_reader = repo.get_service("tn1", created.id)
    repo.save_service("tn1", replace(first_reader, name="First writer"))

    with pytest.raises(ConcurrentUpdateError):
        repo.save_service("tn1", replace(second_reader, name="Second writer"))

    assert repo.get_service("tn1", created.id).name == "First writer"


def test_each_service_save_increments_its_version(aws: str) -> None:
    repo = CatalogRepository()

    created = repo.save_service("tn1", _service())
    updated = repo.save_service("tn1", replace(created, name="Renamed"))

    assert (created.version, updated.version) == (1, 2)
    assert repo.get_service("tn1", created.id).version == 2


def test_creating_a_service_over_an_existing_id_raises_concurrent_update(aws: str) -> None:
    repo = CatalogRepository()
    created = repo.save_service("tn1", _service())

    with pytest.raises(ConcurrentUpdateError):
        repo.save_service("tn1", replace(created, version=0, name="Clobber"))


def test_saving_a_stale_provider_raises_concurrent_update(aws: str) -> None:
    repo = CatalogRepository()
    created = repo.save_provider("tn1", _provider(()))
    stale = repo.get_provider("tn1", created.id)
    repo.save_provider("tn1", replace(stale, name="First writer"))

    with pytest.raises(ConcurrentUpdateError):
        repo.save_provider("tn1", replace(stale, name="Second writer"))

    assert repo.get_provider("tn1", created.id).name == "First writer"


def test_saving_stale_tenant_settings_raises_concurrent_update(aws: str) -> None:
    repo = TenantRepository()
    tenant = _tenant("acme")
    repo.create(tenant, [issue_key(KeyKind.SECRET, tenant.id)])
    stale = repo.get(tenant.id)
    repo.save(replace(stale, name="First writer"))

    with pytest.raises(ConcurrentUpdateError):
        repo.save(replace(stale, name="Second writer"))

    assert repo.get(tenant.id).name == "First writer"


def test_saved_tenant_settings_read_back_with_the_next_version(aws: str) -> None:
    repo = TenantRepository()
    tenant = _tenant("acme")
    created = repo.create(tenant, [])

    saved = repo.save(replace(repo.get(tenant.id), min_notice_minutes=90, reminder_offsets_minutes=(30,)))

    read = repo.get(tenant.id)
    assert saved.version == created.version + 1 == read.version
    assert read.min_notice_minutes == 90
    assert read.reminder_offsets_minutes == (30,)


# --- slugs -----------------------------------------------------------------------------------


def test_a_second_tenant_with_a_taken_slug_is_a_conflict_and_leaves_no_trace(aws: str) -> None:
    repo = TenantRepository()
    first = _tenant("acme")
    second = _tenant("acme")
    repo.create(first, [issue_key(KeyKind.SECRET, first.id)])

    with pytest.raises(ConflictError):
        repo.create(second, [issue_key(KeyKind.SECRET, second.id)])

    assert repo.tenant_id_for_slug("acme") == first.id
    assert repo.tenant_with_keys(second.id) is None


def test_sixteen_tenants_racing_for_one_slug_leave_exactly_one_winner(aws: str) -> None:
    repo = TenantRepository()
    candidates = [_tenant("popular") for _ in range(16)]
    repo.tenant_with_keys("warm-up")  # bind the shared connection before the threads start

    winners, failures = _race(16, lambda i: repo.create(candidates[i], [issue_key(KeyKind.SECRET, candidates[i].id)]))

    assert len(winners) == 1, failures
    assert len(failures) == 15
    assert all(type(failure) is ConflictError for failure in failures), failures
    assert repo.tenant_id_for_slug("popular") == winners[0].id
    assert repo.tenant_with_keys(winners[0].id) is not None


# --- key rotation ----------------------------------------------------------------------------


def test_rotation_replaces_the_secret_key_and_keeps_the_publishable_one(aws: str) -> None:
    repo = TenantRepository()
    tenant = _tenant("acme")
    old_secret = issue_key(KeyKind.SECRET, tenant.id)
    publishable = issue_key(KeyKind.PUBLISHABLE, tenant.id)
    repo.create(tenant, [old_secret, publishable])
    new_secret = issue_key(KeyKind.SECRET, tenant.id)

    repo.rotate_secret_key(tenant.id, new_secret, old_secret.hash, NOW)

    found = repo.tenant_with_keys(tenant.id)
    assert found is not None
    assert {(record.kind, record.hash) for record in found[1]} == {("sk", new_secret.hash), ("pk", publishable.hash)}


def test_rotating_with_a_key_that_is_no_longer_current_is_a_conflict(aws: str) -> None:
    repo = TenantRepository()
    tenant = _tenant("acme")
    old_secret = issue_key(KeyKind.SECRET, tenant.id)
    repo.create(tenant, [old_secret])
    repo.rotate_secret_key(tenant.id, issue_key(KeyKind.SECRET, tenant.id), old_secret.hash, NOW)

    with pytest.raises(ConflictError):
        repo.rotate_secret_key(tenant.id, issue_key(KeyKind.SECRET, tenant.id), hash_secret("stale"), NOW)


def test_two_rotations_racing_with_the_same_old_key_leave_exactly_one_new_key(aws: str) -> None:
    repo = TenantRepository()
    tenant = _tenant("acme")
    old_secret = issue_key(KeyKind.SECRET, tenant.id)
    repo.create(tenant, [old_secret, issue_key(KeyKind.PUBLISHABLE, tenant.id)])
    new_keys = [issue_key(KeyKind.SECRET, tenant.id) for _ in range(2)]

    def rotate(i: int) -> str:
        repo.rotate_secret_key(tenant.id, new_keys[i], old_secret.hash, NOW)
        return new_keys[i].hash

    winners, failures = _race(2, rotate)

    assert len(winners) == 1, failures
    assert [type(failure) for failure in failures] == [ConflictError]
    found = repo.tenant_with_keys(tenant.id)
    assert found is not None
    assert [record.hash for record in found[1] if record.kind == "sk"] == winners


# --- the catalog snapshot --------------------------------------------------------------------


def test_the_snapshot_holds_the_whole_catalog_of_one_tenant_only(aws: str) -> None:
    repo = CatalogRepository()
    service = repo.save_service("tnA", _service("A's"))
    provider = repo.save_provider("tnA", _provider((service.id,)))
    rule = AvailabilityRule(0, "09:00", "17:00", None)
    repo.save_rules("tnA", WeeklyAvailability(provider.id, (rule,)))
    override = repo.add_override(
        "tnA", DateOverride("ovr_1", provider.id, date(2027, 3, 14), (TimeRange("10:00", "12:00"),))
    )
    other_service = repo.save_service("tnB", _service("B's"))
    other_provider = repo.save_provider("tnB", _provider((other_service.id,), name="Eve"))
    repo.save_rules("tnB", WeeklyAvailability(other_provider.id, (AvailabilityRule(1, "08:00", "10:00"),)))
    repo.add_override("tnB", DateOverride("ovr_2", other_provider.id, date(2027, 3, 14), ()))

    snapshot = repo.snapshot("tnA")

    assert snapshot.services == {service.id: service}
    assert snapshot.providers == {provider.id: provider}
    assert set(snapshot.rules) == {provider.id}
    assert snapshot.rules[provider.id].rules == (rule,)
    assert snapshot.overrides == {provider.id: [override]}


def test_the_snapshot_of_a_tenant_without_a_catalog_is_empty(aws: str) -> None:
    repo = CatalogRepository()
    repo.save_service("tnA", _service())

    snapshot = repo.snapshot("tnEmpty")

    assert (snapshot.services, snapshot.providers, snapshot.rules, snapshot.overrides) == ({}, {}, {}, {})


# --- deletes ---------------------------------------------------------------------------------


def test_deleting_a_missing_service_or_provider_is_not_found(aws: str) -> None:
    repo = CatalogRepository()

    with pytest.raises(NotFoundError):
        repo.delete_service("tn1", "svc_missing")
    with pytest.raises(NotFoundError):
        repo.delete_provider("tn1", "prv_missing")


def test_rules_cannot_be_saved_for_a_provider_that_does_not_exist(aws: str) -> None:
    repo = CatalogRepository()

    with pytest.raises(ConflictError):
        repo.save_rules("tn1", WeeklyAvailability("prv_missing", (AvailabilityRule(0, "09:00", "10:00"),)))

    assert repo.snapshot("tn1").rules == {}


# --- overrides -------------------------------------------------------------------------------


def test_a_second_override_of_a_date_replaces_the_first(aws: str) -> None:
    repo = CatalogRepository()
    provider = repo.save_provider("tn1", _provider(()))
    repo.add_override("tn1", DateOverride("ovr_first", provider.id, date(2027, 3, 14), ()))

    second = repo.add_override(
        "tn1", DateOverride("ovr_second", provider.id, date(2027, 3, 14), (TimeRange("10:00", "11:00"),))
    )

    assert repo.list_overrides("tn1", provider.id) == [second]


def test_overrides_racing_for_one_date_leave_exactly_one(aws: str) -> None:
    repo = CatalogRepository()
    provider = repo.save_provider("tn1", _provider(()))
    day = date(2027, 3, 14)

    def add(i: int) -> DateOverride:
        return repo.add_override("tn1", DateOverride(f"ovr_{i}", provider.id, day, (TimeRange("09:00", "10:00"),)))

    winners, failures = _race(8, add)

    kept = repo.list_overrides("tn1", provider.id)
    assert len(kept) == 1, (kept, failures)
    assert kept[0] in winners
