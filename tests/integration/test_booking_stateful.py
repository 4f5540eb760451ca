"""The booking invariant under random sequences of operations, on the emulator: whatever
clients create, cancel and reschedule, and however holds run out, no two active
appointments of a provider ever occupy overlapping time, and every active appointment
owns the lock items of its occupied time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from chalicelib.domain.appointments import Appointment, AppointmentStatus, ClientInfo
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    ConflictError,
    OutsideAvailabilityError,
    SlotUnavailableError,
)
from chalicelib.domain.locks import lock_quanta
from chalicelib.domain.tenant import Tenant
from chalicelib.services import registry
from chalicelib.services.booking import BookingRequest
from chalicelib.store import keys
from chalicelib.store.models import LockItem
from chalicelib.store.table import ensure_bound, reset_binding
from infra.local.emulator import Emulator
from infra.local.provision import provision
from tests.api.booking_support import MONDAY, NOW, ZONE, Shop, freeze, local
from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR

# Starts every 15 minutes from 09:00 to 10:30 on one Monday: crowded enough to collide often.
GRID = [local(MONDAY, f"{9 + minutes // 60:02d}:{minutes % 60:02d}") for minutes in range(0, 91, 15)]
DAY = date.fromisoformat(MONDAY)
EVERYTHING = (from_iso(GRID[0]) - timedelta(days=2), from_iso(GRID[0]) + timedelta(days=3))


@pytest.fixture
def api(aws: str, stripe_fake: Any) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        yield Api(client, stripe_fake)


@dataclass(frozen=True)
class World:
    tenant: Tenant
    services: list[dict[str, Any]]  # [30 minutes with a deposit: pending holds, 60 minutes: confirmed]
    providers: list[dict[str, Any]]  # in id order


def fresh_world(api: Api, emulator: Emulator) -> World:
    """An empty, freshly provisioned emulator (as the `aws` fixture makes) with one tenant:
    two providers offering a 30-minute service with a deposit and a 60-minute one without,
    both with buffers. Re-provisioning, rather than deleting items, also drops the stream
    records moto keeps of every write, which would make each later transaction slower."""
    emulator.reset()
    os.environ["TABLE_NAME"] = provision({"Stage": "dev"})["AppTable"]
    reset_binding()
    registry.reset()
    freeze(NOW)
    shop = Shop(api, api.open_tenant("acme"))
    held = shop.service(name="Held", durationMinutes=30, bufferAfterMinutes=10, priceCents=4000, depositCents=1000)
    confirmed = shop.service(name="Booked", durationMinutes=60, bufferBeforeMinutes=5, bufferAfterMinutes=15)
    # In id order, so an automatic assignment's last tie-break (the id) favours providers[0]
    # on every replay, whatever ids this run drew.
    providers = sorted((shop.provider([held, confirmed], name=name) for name in ("Ann", "Bob")), key=lambda p: p["id"])
    return World(registry.tenant_repository().get(shop.tenant["tenant"]["id"]), [held, confirmed], providers)


class Bookings(RuleBasedStateMachine):
    """Random create / cancel / reschedule / expire-hold against the real store."""

    def __init__(self, api: Api, emulator: Emulator) -> None:
        # Each example starts from an empty table at NOW. This happens here, not in an
        # @initialize rule, so no check ever sees the previous example's appointments.
        super().__init__()
        world = fresh_world(api, emulator)
        self.tenant, self.services, self.providers = world.tenant, world.services, world.providers
        self.now = NOW
        self.live: list[str] = []  # created and not cancelled by this machine
        self.clients = 0
        self.snapshot: list[Appointment] | None = None
        self.lock_snapshot: dict[str, list[LockItem]] = {}

    def tick(self) -> None:
        """One second per booking, so "least recently booked" never ties on creation time."""
        self.now += timedelta(seconds=1)
        freeze(self.now)

    # operations -------------------------------------------------------------------------
    @rule(
        start=st.sampled_from(GRID),
        service=st.integers(0, 1),
        provider=st.sampled_from([None, 0, 1]),
    )
    def create(self, start: str, service: int, provider: int | None) -> None:
        self.changing()
        self.tick()
        self.clients += 1
        request = BookingRequest(
            service_id=self.services[service]["id"],
            provider_id=None if provider is None else self.providers[provider]["id"],
            start=from_iso(start),
            client=ClientInfo(f"Client {self.clients}", f"c{self.clients}@example.test", None, ZONE),
            intake={},
            payment=None,
            idempotency_key=None,
        )
        offered = any(
            slot.start == request.start
            for slot in registry.availability_service().slots(
                self.tenant, request.service_id, DAY, DAY, ZONE, request.provider_id
            )
        )
        try:
            booked = registry.booking_service().book(self.tenant, request)
        except SlotUnavailableError:
            # With nobody racing, a start availability offers must be bookable (no stale locks).
            assert not offered, f"{start} was offered but its booking lost to stale locks"
            return
        assert offered, f"{start} was booked but availability did not offer it"
        self.live.append(booked.appointment.id)

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick: int) -> None:
        self.changing()
        appointment_id = self.live[pick % len(self.live)]
        try:
            registry.booking_service().cancel(self.tenant.id, appointment_id, "changed plans")
        except ConcurrentUpdateError:
            raise  # nobody else writes: the store lost track of what this appointment holds
        except ConflictError:  # a hold that ran out
            return
        self.live.remove(appointment_id)

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 1000), start=st.sampled_from(GRID), provider=st.sampled_from([None, 0, 1]))
    def reschedule(self, pick: int, start: str, provider: int | None) -> None:
        self.changing()
        provider_id = None if provider is None else self.providers[provider]["id"]
        try:
            registry.booking_service().reschedule(
                self.tenant, self.live[pick % len(self.live)], from_iso(start), provider_id
            )
        except ConcurrentUpdateError:
            raise
        except (ConflictError, OutsideAvailabilityError):  # taken, not offered, or a hold that ran out
            pass

    @rule(pick=st.integers(0, 1000))
    def expire_hold(self, pick: int) -> None:
        """Move the clock just past one pending hold's holdUntil (the clock never goes back)."""
        self.changing()
        holds = [a.hold_until for a in self.stored() if a.status is AppointmentStatus.PENDING and a.hold_until]
        later = sorted(h for h in holds if h >= self.now)
        if not later:
            return
        self.now = later[pick % len(later)] + timedelta(seconds=1)
        freeze(self.now)

    # checks -----------------------------------------------------------------------------
    def stored(self) -> list[Appointment]:
        """Every appointment in the store, read once per step (the checks after a step share it)."""
        if self.snapshot is None:
            self.snapshot = registry.appointment_repository().list_by_start(self.tenant.id, *EVERYTHING)
        return self.snapshot

    def locks(self, provider_id: str) -> list[LockItem]:
        if provider_id not in self.lock_snapshot:
            ensure_bound()
            self.lock_snapshot[provider_id] = [
                item for item in LockItem.query(keys.lock_pk(self.tenant.id, provider_id)) if isinstance(item, LockItem)
            ]
        return self.lock_snapshot[provider_id]

    def changing(self) -> None:
        """Called by every operation: what was read before it is stale."""
        self.snapshot = None
        self.lock_snapshot = {}

    @invariant()
    def no_two_active_appointments_of_a_provider_overlap(self) -> None:
        active = [a for a in self.stored() if a.is_active(self.now)]
        for i, first in enumerate(active):
            for second in active[i + 1 :]:
                if first.provider_id != second.provider_id:
                    continue
                (a_start, a_end), (b_start, b_end) = first.occupied, second.occupied
                assert not (a_start < b_end and b_start < a_end), (_show(first), _show(second))

    @invariant()
    def every_active_appointment_owns_the_locks_of_its_time(self) -> None:
        for appointment in self.stored():
            if not appointment.is_active(self.now):
                continue
            owners = {item.sk: item.owner for item in self.locks(appointment.provider_id)}
            for quantum in lock_quanta(*appointment.occupied):
                assert owners.get(to_iso(quantum)) == appointment.id, (_show(appointment), to_iso(quantum))

    @invariant()
    def every_lock_belongs_to_an_active_appointment_or_is_a_lapsed_hold(self) -> None:
        """Cancelled and moved-away time is released, so nothing blocks what availability offers."""
        active = {a.id: set(lock_quanta(*a.occupied)) for a in self.stored() if a.is_active(self.now)}
        for provider in self.providers:
            for item in self.locks(provider["id"]):
                if item.hold_until_epoch is not None and item.hold_until_epoch <= self.now.timestamp():
                    continue  # claimable by anyone: a hold that ran out frees itself
                assert from_iso(item.sk) in active.get(item.owner, set()), (item.owner, item.sk)


def _show(appointment: Appointment) -> str:
    start, end = appointment.occupied
    return f"{appointment.id} {appointment.status.value} {appointment.provider_id} [{to_iso(start)}, {to_iso(end)})"


def test_no_two_active_appointments_of_a_provider_ever_overlap(api: Api, emulator: Emulator) -> None:
    # GIVEN two providers, a service booked as pending holds and one booked as confirmed
    # WHEN random creates, cancels, reschedules and hold expiries run
    # THEN after every step no two active appointments of a provider overlap
    run_state_machine_as_test(
        lambda: Bookings(api, emulator),
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
