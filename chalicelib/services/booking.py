"""Booking, and every later move of an appointment: cancel, reschedule, complete, no-show.

The slot engine decides whether a start is offered; the store's transaction decides who
gets it. A request that loses the race hears 409 `slot_unavailable`, never a 5xx.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from chalicelib.domain.appointments import (
    Action,
    Appointment,
    AppointmentStatus,
    ClientInfo,
    apply_transition,
    check_transition,
    rescheduled,
)
from chalicelib.domain.assignment import local_day, pick_provider
from chalicelib.domain.catalog import Provider, Service
from chalicelib.domain.clock import to_iso
from chalicelib.domain.credentials import hash_secret
from chalicelib.domain.errors import (
    IdempotencyMismatchError,
    NotFoundError,
    OutsideAvailabilityError,
    PaymentsNotConfiguredError,
    RuleViolationError,
    SlotUnavailableError,
    ValidationError,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.intake import intake_problems
from chalicelib.domain.locks import lock_quanta, plan_move
from chalicelib.domain.payments import RefundRequest, amount_due_now
from chalicelib.domain.rejections import outside_availability_details
from chalicelib.domain.slots import StartRejection, check_start
from chalicelib.domain.tenant import Tenant
from chalicelib.domain.tokens import ActionToken, mint_token
from chalicelib.domain.tokens import check_token as check_action_token
from chalicelib.services.calendars import TenantView, TenantViews
from chalicelib.services.checkout import CheckoutService, require_payments
from chalicelib.services.refunds import POLICY, RefundChoice, Refunds
from chalicelib.store.appointments import (
    AppointmentRepository,
    IdempotencyClaim,
    IdempotencyRaceError,
    TransactionPart,
)
from chalicelib.store.payments import PaymentRepository

# Stripe Checkout sessions must live at least 30 minutes from Stripe's own clock; the hold
# lasts exactly as long as its session, with a margin for the time the request takes.
HOLD_MINUTES = 35
MAX_ASSIGN_ATTEMPTS = 3


@dataclass(frozen=True)
class BookingRequest:
    service_id: str
    provider_id: str | None
    start: datetime
    client: ClientInfo
    intake: dict[str, Any]
    payment: str | None  # "deposit" | "full" | None
    idempotency_key: str | None
    skip_payment: bool = False  # admin manual bookings only

    def fingerprint(self) -> str:
        body = {
            "service": self.service_id,
            "provider": self.provider_id,
            "start": self.start.isoformat(),
            "client": [self.client.name, self.client.email.lower(), self.client.phone, self.client.timezone],
            "intake": self.intake,
            "payment": self.payment,
            "skip": self.skip_payment,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def both(first: TransactionPart | None, second: TransactionPart | None) -> TransactionPart | None:
    """Two additions to one transaction (either may be absent)."""
    if first is None or second is None:
        return first or second

    def together(tx: Any) -> None:  # a pynamodb TransactWrite
        first(tx)
        second(tx)

    return together


@dataclass(frozen=True)
class HeldTime:
    """A waitlist offer's hold that a booking takes over: the offer's lock quanta may be claimed,
    its hold does not count against the start, and `also(appointment_id)` commits with the booking."""

    owner: str
    also: Callable[[str], TransactionPart]


@dataclass(frozen=True)
class Booked:
    """An appointment and a fresh self-service token for its current version."""

    appointment: Appointment
    token: str
    checkout_url: str | None = None


@dataclass(frozen=True)
class Cancelled:
    appointment: Appointment
    refund: RefundRequest | None


POLICY_REFUND = RefundChoice(POLICY)


class BookingService:
    def __init__(
        self,
        views: TenantViews,
        appointments: AppointmentRepository,
        clock: Callable[[], datetime],
        checkout: CheckoutService,
        refunds: Refunds,
        payments: PaymentRepository,
    ) -> None:
        self._views = views
        self._appointments = appointments
        self._clock = clock
        self._checkout = checkout
        self._refunds = refunds
        self._payments = payments

    # creating ---------------------------------------------------------------------------
    def book(self, tenant: Tenant, request: BookingRequest, held: HeldTime | None = None) -> Booked:
        now = self._clock()
        claim = None
        if request.idempotency_key:
            claim = IdempotencyClaim(hash_secret(request.idempotency_key), request.fingerprint())
            replay = self._replay(tenant, claim)
            if replay is not None:
                return replay
        span = (request.start - timedelta(days=1), request.start + timedelta(days=1))
        view = self._views.around(tenant, *span, now, for_booking=True)
        if held is not None:
            view = replace(view, appointments=[a for a in view.appointments if a.id != held.owner])
        service = view.snapshot.services.get(request.service_id)
        if service is None or not service.active:
            raise NotFoundError("No such service.")
        problems = intake_problems(service.intake_fields, request.intake)
        if problems:
            raise RuleViolationError("Some intake answers are missing or invalid.", {"fields": problems})
        due = 0 if request.skip_payment else amount_due_now(service, request.payment)
        if due > 0:
            require_payments(tenant)
            self._checkout.require_gateway()
        candidates = self._offering(view, service, request)
        ordered = self._fair_order(view, candidates, request.start)
        last_error: SlotUnavailableError | None = None
        for provider in ordered[:MAX_ASSIGN_ATTEMPTS]:
            appointment = self._new_appointment(tenant, service, provider, view, request, due, now)
            minted = mint_token(appointment)
            try:
                self._create(appointment, minted.record, claim, now, held, self._views.busy_guard(view, provider.id))
            except SlotUnavailableError as error:
                last_error = error
                if request.provider_id is not None:
                    raise
                continue
            except IdempotencyRaceError:
                replay = self._replay(tenant, claim) if claim else None
                if replay is None:
                    raise
                return replay
            return Booked(appointment, minted.plaintext, self._first_checkout(tenant, appointment))
        assert last_error is not None
        raise last_error

    def _create(
        self,
        appointment: Appointment,
        token: ActionToken,
        claim: IdempotencyClaim | None,
        now: datetime,
        held: HeldTime | None = None,
        busy_guard: TransactionPart | None = None,
    ) -> None:
        """`busy_guard` fails the transaction if the provider's synced busy time changed since it
        was read (SlotUnavailableError, like a lost lock)."""
        start, end = appointment.occupied
        if not appointment.is_group:
            self._appointments.create(
                appointment,
                lock_quanta(start, end),
                token,
                now,
                claim,
                hold_owner=held.owner if held else None,
                also=both(held.also(appointment.id) if held else None, busy_guard),
            )
            return
        # A class's first seat claims the session's time; later seats only count.
        exists = self._appointments.session_exists(
            appointment.tenant_id, appointment.provider_id, appointment.service_id, appointment.start
        )
        try:
            self._appointments.create(appointment, lock_quanta(start, end), token, now, claim, exists, also=busy_guard)
        except SlotUnavailableError:
            if exists:
                raise
            # Someone opened the session first: take a seat in it instead.
            self._appointments.create(appointment, [], token, now, claim, session_exists=True)

    def _replay(self, tenant: Tenant, claim: IdempotencyClaim) -> Booked | None:
        hit = self._appointments.find_idempotent(tenant.id, claim.key_hash)
        if hit is None:
            return None
        if hit.fingerprint != claim.fingerprint:
            raise IdempotencyMismatchError("This idempotency key was used for a different request.")
        appointment = self._appointments.get(tenant.id, hit.appointment_id)
        minted = mint_token(appointment)
        self._appointments.add_token(tenant.id, minted.record)
        return Booked(appointment, minted.plaintext, self._checkout_url(tenant, appointment))

    def _first_checkout(self, tenant: Tenant, appointment: Appointment) -> str | None:
        """The new hold's payment page. If Stripe refuses it for good (the account cannot take
        charges), the hold is given up at once: nobody could pay it, and it would block the time."""
        try:
            return self._checkout_url(tenant, appointment)
        except PaymentsNotConfiguredError:
            self.expire_unpaid(tenant.id, appointment.id)
            raise

    def _checkout_url(self, tenant: Tenant, appointment: Appointment) -> str | None:
        """The payment page of a live hold (the same session on every retry)."""
        if not appointment.is_active(self._clock()) or appointment.status is not AppointmentStatus.PENDING:
            return None
        return self._checkout.for_booking(tenant, appointment)

    def _offering(self, view: TenantView, service: Service, request: BookingRequest) -> list[Provider]:
        providers = view.providers_for(service, request.provider_id)
        if request.provider_id is not None and not providers:
            raise NotFoundError("No such provider for this service.")
        rules = view.rules()
        spec = view.spec(service)
        offering: list[Provider] = []
        taken = False
        for provider in providers:
            verdict = check_start(spec, view.calendar(provider, service), rules, request.start, request.client.email)
            if verdict is None:
                offering.append(provider)
            elif verdict is StartRejection.SLOT_UNAVAILABLE:
                taken = True
        if offering:
            return offering
        if taken:
            raise SlotUnavailableError("That time is no longer available.", {"start": to_iso(request.start)})
        raise OutsideAvailabilityError(
            "That start is not an available time for this service.",
            outside_availability_details(
                rules, request.start, view.provider_zone(providers[0]) if providers else view.tenant.timezone
            ),
        )

    def _fair_order(self, view: TenantView, providers: list[Provider], start: datetime) -> list[Provider]:
        by_id = {p.id: p for p in providers}
        last = view.last_assigned()
        ordered: list[Provider] = []
        remaining = dict(by_id)
        while remaining:
            counts = {pid: view.bookings_on(p, local_day(start, view.provider_zone(p))) for pid, p in remaining.items()}
            chosen = pick_provider(remaining, counts, last)
            assert chosen is not None
            ordered.append(remaining.pop(chosen))
        return ordered

    def _new_appointment(
        self,
        tenant: Tenant,
        service: Service,
        provider: Provider,
        view: TenantView,
        request: BookingRequest,
        due: int,
        now: datetime,
    ) -> Appointment:
        pending = due > 0
        return Appointment(
            id=new_id("apt_"),
            tenant_id=tenant.id,
            service_id=service.id,
            service_name=service.name,
            provider_id=provider.id,
            status=AppointmentStatus.PENDING if pending else AppointmentStatus.CONFIRMED,
            start=request.start,
            end=request.start + timedelta(minutes=service.duration_minutes),
            timezone=view.provider_zone(provider),
            client=request.client,
            intake=dict(request.intake),
            price_cents=service.price_cents,
            currency=service.currency,
            buffer_before_minutes=service.buffer_before_minutes,
            buffer_after_minutes=service.buffer_after_minutes,
            capacity=service.capacity,
            created_at=now,
            updated_at=now,
            amount_due_now_cents=due,
            hold_until=now + timedelta(minutes=HOLD_MINUTES) if pending else None,
        )

    # reading ----------------------------------------------------------------------------
    def get(self, tenant_id: str, appointment_id: str) -> Appointment:
        return self._appointments.get(tenant_id, appointment_id)

    def view_with_token(self, tenant_id: str, appointment_id: str, token: str) -> Appointment:
        appointment = self._appointments.get(tenant_id, appointment_id)
        self._check_token(appointment, token, Action.VIEW)
        return appointment

    def list(self, tenant_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return self._appointments.list_by_start(tenant_id, start, end)

    # changing ---------------------------------------------------------------------------
    def cancel(
        self,
        tenant_id: str,
        appointment_id: str,
        reason: str | None,
        token: str | None = None,
        refund: RefundChoice = POLICY_REFUND,
    ) -> Cancelled:
        """Cancel, and in the same transaction write the refund request the choice implies.

        Clients always get the policy's refund; an admin may choose full, none or an amount."""
        now = self._clock()
        before = self._appointments.get(tenant_id, appointment_id)
        if token is not None:
            self._check_token(before, token, Action.CANCEL)
        after = apply_transition(before, Action.CANCEL, now, reason)
        request = self._refunds.plan(before, refund, reason or "cancelled")
        after = replace(after, refund_on_cancel_cents=request.amount_cents if request is not None else 0)
        also = partial(self._payments.add_refund_request, request=request) if request is not None else None
        self._release(before, after, now, hash_secret(token) if token is not None else None, also)
        return Cancelled(after, request)

    def cancellation_refund(self, tenant_id: str, appointment_id: str, token: str) -> int:
        """What cancelling now would refund under the policy (cents), shown before the client confirms."""
        before = self._appointments.get(tenant_id, appointment_id)
        self._check_token(before, token, Action.CANCEL)
        check_transition(before, Action.CANCEL, self._clock())
        request = self._refunds.plan(before, POLICY_REFUND, "quote")
        return request.amount_cents if request is not None else 0

    def expire_hold(self, tenant_id: str, appointment_id: str, version: int) -> Appointment | None:
        """The hold-expiry schedule's work: a still-pending hold of that version whose time is up
        becomes `expired` and frees its time. Anything else (paid, cancelled, moved) is left alone."""
        now = self._clock()
        before = self._appointments.get(tenant_id, appointment_id)
        if before.status is not AppointmentStatus.PENDING or before.version != version:
            return None
        after = apply_transition(before, Action.EXPIRE, now)
        self._release(before, after, now, None)
        return after

    def expire_unpaid(self, tenant_id: str, appointment_id: str) -> Appointment | None:
        """Stripe says the checkout expired: a hold still pending gives its time back now."""
        now = self._clock()
        before = self._appointments.get(tenant_id, appointment_id)
        if before.status is not AppointmentStatus.PENDING:
            return None
        after = replace(
            before, status=AppointmentStatus.EXPIRED, hold_until=None, updated_at=now, version=before.version + 1
        )
        self._release(before, after, now, None)
        return after

    def confirm_paid(self, tenant_id: str, appointment_id: str) -> str:
        """Payment arrived: the hold becomes a booking if its time is still its own.

        A pending hold keeps its quanta (condition: still owned by it, even if the hold lapsed
        and nobody took them); a hold that already expired re-claims them if free. Returns
        'confirmed', 'already_confirmed', or 'slot_taken' / 'cancelled' when the money must go back.
        """
        now = self._clock()
        before = self._appointments.get(tenant_id, appointment_id)
        if before.status is AppointmentStatus.CONFIRMED:
            return "already_confirmed"
        if before.status not in (AppointmentStatus.PENDING, AppointmentStatus.EXPIRED):
            return "cancelled"
        if before.is_group and before.status is AppointmentStatus.EXPIRED:
            return "slot_taken"  # its seat went back when the hold expired
        after = replace(
            before, status=AppointmentStatus.CONFIRMED, hold_until=None, updated_at=now, version=before.version + 1
        )
        start, end = before.occupied
        quanta = lock_quanta(start, end)
        if before.is_group:
            plan = None  # the session owns the quanta; the seat is already counted
        elif before.status is AppointmentStatus.PENDING:
            plan = plan_move(quanta, quanta)
        else:
            plan = plan_move([], quanta)
        try:
            self._appointments.change(before, after, now, plan=plan)
        except SlotUnavailableError:
            if before.status is AppointmentStatus.PENDING:
                self.expire_unpaid(tenant_id, appointment_id)
            return "slot_taken"
        return "confirmed"

    def _release(
        self,
        before: Appointment,
        after: Appointment,
        now: datetime,
        spent_token: str | None,
        also: TransactionPart | None = None,
    ) -> None:
        """Commit `after` and give back the time `before` held: its quanta, or its class seat."""
        start, end = before.occupied
        if before.is_group:
            self._appointments.release_seat(before, after, lock_quanta(start, end), spend_token=spent_token, also=also)
        else:
            plan = plan_move(lock_quanta(start, end), [])
            self._appointments.change(before, after, now, plan=plan, spend_token=spent_token, also=also)

    def reschedule(
        self,
        tenant: Tenant,
        appointment_id: str,
        start: datetime,
        provider_id: str | None = None,
        token: str | None = None,
    ) -> Booked:
        now = self._clock()
        before = self._appointments.get(tenant.id, appointment_id)
        if token is not None:
            self._check_token(before, token, Action.RESCHEDULE)
            if provider_id is not None and provider_id != before.provider_id:
                raise ValidationError("A client cannot change the provider.", {"fields": {"providerId": "not allowed"}})
        check_transition(before, Action.RESCHEDULE, now)
        if before.is_group:
            raise RuleViolationError("Class seats cannot be moved; cancel and book another session.")
        target_provider = provider_id or before.provider_id
        view = self._views.around(tenant, start - timedelta(days=1), start + timedelta(days=1), now, for_booking=True)
        service = view.snapshot.services.get(before.service_id)
        if service is None:
            raise RuleViolationError("The service of this appointment no longer exists.")
        providers = view.providers_for(service, target_provider)
        if not providers:
            raise NotFoundError("No such provider for this service.")
        # The appointment's own time does not block its move.
        own_free = replace(view, appointments=[a for a in view.appointments if a.id != before.id])
        verdict = check_start(own_free.spec(service), own_free.calendar(providers[0], service), own_free.rules(), start)
        if verdict is StartRejection.OUTSIDE_AVAILABILITY:
            raise OutsideAvailabilityError(
                "That start is not an available time for this service.",
                outside_availability_details(own_free.rules(), start, view.provider_zone(providers[0])),
            )
        if verdict is StartRejection.SLOT_UNAVAILABLE:
            raise SlotUnavailableError("That time is no longer available.", {"start": to_iso(start)})
        after = rescheduled(before, start, target_provider, view.provider_zone(providers[0]), now)
        old_start, old_end = before.occupied
        new_start, new_end = after.occupied
        if target_provider == before.provider_id:
            plan = plan_move(lock_quanta(old_start, old_end), lock_quanta(new_start, new_end))
            minted = mint_token(after)
            self._appointments.change(
                before,
                after,
                now,
                plan=plan,
                spend_token=hash_secret(token) if token is not None else None,
                new_token=minted.record,
                also=self._views.busy_guard(view, target_provider),
            )
            return Booked(after, minted.plaintext)
        return self._move_to_other_provider(before, after, now)

    def _move_to_other_provider(self, before: Appointment, after: Appointment, now: datetime) -> Booked:
        """Locks live under the provider, so a provider change releases one set and claims another."""
        old_start, old_end = before.occupied
        new_start, new_end = after.occupied
        minted = mint_token(after)
        self._appointments.move_provider(
            before, after, now, lock_quanta(old_start, old_end), lock_quanta(new_start, new_end), minted.record
        )
        return Booked(after, minted.plaintext)

    def complete(self, tenant_id: str, appointment_id: str) -> Appointment:
        return self._finish(tenant_id, appointment_id, Action.COMPLETE)

    def no_show(self, tenant_id: str, appointment_id: str) -> Appointment:
        return self._finish(tenant_id, appointment_id, Action.NO_SHOW)

    def _finish(self, tenant_id: str, appointment_id: str, action: Action) -> Appointment:
        """Completed and no-show keep their locks: the time was used (or reserved) all the same."""
        now = self._clock()
        before = self._appointments.get(tenant_id, appointment_id)
        after = apply_transition(before, action, now)
        self._appointments.change(before, after, now)
        return after

    def _check_token(self, appointment: Appointment, token: str, action: Action) -> None:
        record = self._appointments.get_token(appointment.tenant_id, appointment.id, token)
        check_action_token(record, appointment, action, self._clock())

    def new_manage_token(self, appointment: Appointment) -> str:
        minted = mint_token(appointment)
        self._appointments.add_token(appointment.tenant_id, minted.record)
        return minted.plaintext
