"""Appointments, their lock quanta, class seats, action tokens and idempotency records.

Every write that changes who holds a provider's time is ONE TransactWriteItems: the
appointment and its lock items (and seats, tokens, idempotency record) commit together
or not at all, whatever the timing of concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.appointments import (
    HOLDS_TIME,
    Action,
    Appointment,
    AppointmentStatus,
    ClientInfo,
    PaymentStatus,
)
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.credentials import hash_secret
from chalicelib.domain.errors import ConcurrentUpdateError, NotFoundError, SlotUnavailableError
from chalicelib.domain.locks import LockPlan
from chalicelib.domain.payments import Money, with_money
from chalicelib.domain.tokens import ActionToken
from chalicelib.store import keys
from chalicelib.store.models import (
    AppointmentItem,
    AttendeeItem,
    ClientItem,
    IdempotencyItem,
    LockItem,
    MoneyItem,
    SessionItem,
    TableItem,
    TokenItem,
    WaitlistOfferItem,
    version_kwargs,
)
from chalicelib.store.table import ensure_bound, transaction

IDEMPOTENCY_TTL = timedelta(hours=24)
LOCK_RETENTION = timedelta(days=1)
TOKEN_RETENTION = timedelta(days=1)
CONDITION_FAILED = "ConditionalCheckFailed"
LOST_RACE_REASONS = frozenset({CONDITION_FAILED, "TransactionConflict"})
MAX_OCCUPANCY_SPAN = timedelta(hours=24)  # occupied intervals are far shorter (MAX_OCCUPIED_MINUTES)


@dataclass(frozen=True)
class IdempotencyClaim:
    key_hash: str
    fingerprint: str


@dataclass(frozen=True)
class IdempotentHit:
    appointment_id: str
    fingerprint: str


def email_hash(email: str) -> str:
    return hash_secret(email.strip().lower())


def _item(appointment: Appointment, stored_version: int) -> AppointmentItem:
    """`stored_version` is the version in the table now (0: none); PynamoDB conditions on it and bumps it."""
    occupied_start, _ = appointment.occupied
    active = appointment.status in HOLDS_TIME
    return AppointmentItem(
        keys.appointment_pk(appointment.tenant_id, appointment.id),
        keys.APPOINTMENT_SK,
        gsi1pk=keys.occupancy_gsi_pk(appointment.tenant_id) if active else None,
        gsi1sk=keys.time_sort_key(to_iso(occupied_start), appointment.id) if active else None,
        gsi2pk=keys.appointments_gsi_pk(appointment.tenant_id),
        gsi2sk=keys.time_sort_key(to_iso(appointment.start), appointment.id),
        appointment_id=appointment.id,
        tenant_id=appointment.tenant_id,
        service_id=appointment.service_id,
        service_name=appointment.service_name,
        provider_id=appointment.provider_id,
        status=appointment.status.value,
        start=to_iso(appointment.start),
        end=to_iso(appointment.end),
        timezone=appointment.timezone,
        client={
            "name": appointment.client.name,
            "email": appointment.client.email,
            "phone": appointment.client.phone,
            "timezone": appointment.client.timezone,
        },
        intake=appointment.intake,
        price_cents=appointment.price_cents,
        currency=appointment.currency,
        buffer_before_minutes=appointment.buffer_before_minutes,
        buffer_after_minutes=appointment.buffer_after_minutes,
        capacity=appointment.capacity,
        amount_due_now_cents=appointment.amount_due_now_cents,
        amount_paid_cents=appointment.amount_paid_cents,
        amount_refunded_cents=appointment.amount_refunded_cents,
        payment_status=appointment.payment_status.value,
        hold_until=to_iso(appointment.hold_until) if appointment.hold_until else None,
        cancel_reason=appointment.cancel_reason,
        refund_on_cancel_cents=appointment.refund_on_cancel_cents or None,
        links_from_version=appointment.links_from_version,
        calendar_conflict=appointment.calendar_conflict or None,
        created_at=appointment.created_at,
        updated_at=appointment.updated_at,
        **version_kwargs(stored_version),
    )


def to_appointment(item: AppointmentItem) -> Appointment:
    client: dict[str, Any] = item.client
    return Appointment(
        id=item.appointment_id,
        tenant_id=item.tenant_id,
        service_id=item.service_id,
        service_name=item.service_name,
        provider_id=item.provider_id,
        status=AppointmentStatus(item.status),
        start=from_iso(item.start),
        end=from_iso(item.end),
        timezone=item.timezone,
        client=ClientInfo(client["name"], client["email"], client.get("phone"), client["timezone"]),
        intake=dict(item.intake or {}),
        price_cents=int(item.price_cents),
        currency=item.currency,
        buffer_before_minutes=int(item.buffer_before_minutes),
        buffer_after_minutes=int(item.buffer_after_minutes),
        capacity=int(item.capacity),
        created_at=item.created_at,
        updated_at=item.updated_at,
        amount_due_now_cents=int(item.amount_due_now_cents or 0),
        amount_paid_cents=int(item.amount_paid_cents or 0),
        amount_refunded_cents=int(item.amount_refunded_cents or 0),
        payment_status=PaymentStatus(item.payment_status),
        hold_until=from_iso(item.hold_until) if item.hold_until else None,
        cancel_reason=item.cancel_reason,
        refund_on_cancel_cents=int(item.refund_on_cancel_cents or 0),
        version=int(item.version or 0),
        # Items written before links outlived payments: only tokens of the current version work.
        links_from_version=int(item.links_from_version if item.links_from_version is not None else item.version or 0),
        calendar_conflict=bool(item.calendar_conflict),
    )


def _session_key(appointment: Appointment) -> str:
    return f"SES#{appointment.service_id}#{to_iso(appointment.start)}"


def _lock(appointment: Appointment, quantum: datetime, owner: str) -> LockItem:
    _, occupied_end = appointment.occupied
    # A class session's locks belong to the session, not to any one seat's hold.
    hold = (
        appointment.hold_until if appointment.status is AppointmentStatus.PENDING and not appointment.is_group else None
    )
    return LockItem(
        keys.lock_pk(appointment.tenant_id, appointment.provider_id),
        to_iso(quantum),
        owner=owner,
        hold_until_epoch=int(hold.timestamp()) if hold else None,
        expires_at=max(occupied_end, hold or occupied_end) + LOCK_RETENTION,
    )


def lost_race(exc: TransactWriteError) -> dict[int, str] | None:
    """Position -> reason for every item at which a cancelled transaction lost to another
    writer: a condition that failed, or (on DynamoDB, never on moto) another transaction in
    progress on the item. None when it failed for any other reason, which we do not translate."""
    if exc.cause_response_code != "TransactionCanceledException":
        return None
    reasons = {i: r.code for i, r in enumerate(exc.cancellation_reasons or []) if r is not None}
    if not reasons or not set(reasons.values()) <= LOST_RACE_REASONS:
        return None
    return reasons


def _free_or_expired(now: datetime) -> Any:
    """A hold is over AT its holdUntil (`Appointment.is_active`), whole seconds as stored."""
    return LockItem.pk.does_not_exist() | (LockItem.hold_until_epoch <= int(now.timestamp()))


def _token_item(tenant_id: str, token: ActionToken) -> TokenItem:
    return TokenItem(
        keys.appointment_pk(tenant_id, token.appointment_id),
        keys.token_sk(token.hash),
        appointment_id=token.appointment_id,
        actions=sorted(action.value for action in token.actions),
        token_expires_at=token.expires_at,
        minted_for_version=token.version,
        used=token.used,
        expires_at=token.expires_at + TOKEN_RETENTION,
    )


class AppointmentRepository:
    """The only code that knows appointment, lock, seat, token and idempotency items."""

    def get(self, tenant_id: str, appointment_id: str) -> Appointment:
        """Read consistently (state changes follow reads), with amounts from the ledger's totals."""
        ensure_bound()
        pk = keys.appointment_pk(tenant_id, appointment_id)
        try:
            appointment = to_appointment(AppointmentItem.get(pk, keys.APPOINTMENT_SK, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFoundError("No such appointment.") from exc
        try:
            money = money_of(MoneyItem.get(pk, keys.MONEY_SK, consistent_read=True))
        except DoesNotExist:
            money = None
        return with_money(appointment, money)

    def occupancy(self, tenant_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments holding time (pending, confirmed, completed, no-show) that may meet [start, end)."""
        ensure_bound()
        low = keys.time_sort_key(to_iso(start - MAX_OCCUPANCY_SPAN), "")
        high = keys.time_sort_key(to_iso(end), "~")
        # The base model's index: a subclass's query filters on its own discriminator.
        query = TableItem.gsi1.query(keys.occupancy_gsi_pk(tenant_id), TableItem.gsi1sk.between(low, high))
        from chalicelib.store.waitlist import offer_hold  # the waitlist's store builds on this one

        found: list[Appointment] = []
        for item in query:
            if isinstance(item, AppointmentItem):
                found.append(to_appointment(item))
            elif isinstance(item, WaitlistOfferItem):  # a waitlist offer holds its time like a pending hold
                found.append(offer_hold(item))
        return found

    def list_by_start(self, tenant_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """Every appointment (any status) starting in [start, end)."""
        ensure_bound()
        low = keys.time_sort_key(to_iso(start), "")
        high = keys.time_sort_key(to_iso(end - timedelta(seconds=1)), "~")
        query = AppointmentItem.gsi2.query(
            keys.appointments_gsi_pk(tenant_id), AppointmentItem.gsi2sk.between(low, high)
        )
        found = [to_appointment(item) for item in query if isinstance(item, AppointmentItem)]
        wanted = [(keys.appointment_pk(tenant_id, a.id), keys.MONEY_SK) for a in found]
        moneys = {item.pk: money_of(item) for item in MoneyItem.batch_get(wanted)} if wanted else {}
        return [with_money(a, moneys.get(keys.appointment_pk(tenant_id, a.id))) for a in found]

    def find_idempotent(self, tenant_id: str, key_hash: str) -> IdempotentHit | None:
        ensure_bound()
        try:
            item = IdempotencyItem.get(keys.idempotency_pk(tenant_id, key_hash), keys.IDEMPOTENCY_SK)
        except DoesNotExist:
            return None
        return IdempotentHit(item.appointment_id, item.fingerprint)

    def create(
        self,
        appointment: Appointment,
        quanta: list[datetime],
        token: ActionToken,
        now: datetime,
        idempotency: IdempotencyClaim | None = None,
        session_exists: bool = False,
        hold_owner: str | None = None,
        also: TransactionPart | None = None,
    ) -> None:
        """Commit a new booking with everything it claims, or raise SlotUnavailableError.

        A one-to-one booking claims every quantum. A class seat increments the session's seat
        counter under `seats < capacity`; the session's first seat also claims the quanta
        (owned by the session), later seats only check the counter exists. `hold_owner` (a
        waitlist offer) may also hand over quanta it holds, and `also` commits with the booking.
        """
        ensure_bound()
        t = appointment.tenant_id
        positions: dict[str, list[int]] = {"slot": [], "idempotency": [], "seat": []}
        try:
            with transaction() as tx:
                ops = 0
                tx.save(_item(appointment, 0), condition=AppointmentItem.pk.does_not_exist())
                ops += 1
                if idempotency is not None:
                    tx.save(
                        IdempotencyItem(
                            keys.idempotency_pk(t, idempotency.key_hash),
                            keys.IDEMPOTENCY_SK,
                            appointment_id=appointment.id,
                            fingerprint=idempotency.fingerprint,
                            expires_at=now + IDEMPOTENCY_TTL,
                        ),
                        condition=IdempotencyItem.pk.does_not_exist(),
                    )
                    positions["idempotency"].append(ops)
                    ops += 1
                tx.save(_token_item(t, token))
                ops += 1
                client_key = email_hash(appointment.client.email)
                tx.update(
                    ClientItem(keys.client_pk(t, client_key), keys.CLIENT_SK),
                    actions=[
                        ClientItem.name.set(appointment.client.name),
                        ClientItem.email.set(appointment.client.email),
                        ClientItem.phone.set(appointment.client.phone or ""),
                        ClientItem.timezone.set(appointment.client.timezone),
                        ClientItem.type.set(ClientItem),
                        ClientItem.bookings.add(1),
                        ClientItem.last_booked_at.set(now),
                    ],
                )
                ops += 1
                owner = appointment.id
                if appointment.is_group:
                    owner = _session_key(appointment)
                    session_pk = keys.session_pk(
                        t, appointment.provider_id, appointment.service_id, to_iso(appointment.start)
                    )
                    tx.save(
                        AttendeeItem(session_pk, keys.attendee_sk(client_key), appointment_id=appointment.id),
                        condition=AttendeeItem.pk.does_not_exist(),
                    )
                    positions["seat"].append(ops)
                    ops += 1
                    session = SessionItem(session_pk, keys.SESSION_SK)
                    if session_exists:
                        tx.update(
                            session,
                            actions=[SessionItem.seats.add(1)],
                            condition=SessionItem.pk.exists() & (SessionItem.seats < appointment.capacity),
                        )
                        positions["seat"].append(ops)
                        ops += 1
                        quanta = []
                    else:
                        tx.save(
                            SessionItem(session_pk, keys.SESSION_SK, seats=1, capacity=appointment.capacity),
                            condition=SessionItem.pk.does_not_exist(),
                        )
                        positions["slot"].append(ops)
                        ops += 1
                claimable = _free_or_expired(now)
                if hold_owner is not None:
                    claimable = claimable | (LockItem.owner == hold_owner)
                for quantum in quanta:
                    tx.save(_lock(appointment, quantum, owner), condition=claimable)
                    positions["slot"].append(ops)
                    ops += 1
                if also is not None:
                    also(tx)
        except TransactWriteError as exc:
            lost = lost_race(exc)
            if lost is None:
                raise
            failed = set(lost)
            for position in failed & set(positions["idempotency"]):
                if lost[position] == CONDITION_FAILED:
                    raise IdempotencyRaceError from exc
                raise ConcurrentUpdateError("A request with this idempotency key is in progress; retry.") from exc
            raise SlotUnavailableError(
                "That time was just taken."
                if not failed & set(positions["seat"])
                else "You already hold a seat in this class, or it is full.",
                {"providerId": appointment.provider_id, "start": to_iso(appointment.start)},
            ) from exc

    def get_token(self, tenant_id: str, appointment_id: str, token_plaintext: str) -> ActionToken | None:
        ensure_bound()
        try:
            item = TokenItem.get(
                keys.appointment_pk(tenant_id, appointment_id), keys.token_sk(hash_secret(token_plaintext))
            )
        except DoesNotExist:
            return None
        return ActionToken(
            hash=item.sk[len(keys.TOKEN_PREFIX) :],
            appointment_id=item.appointment_id,
            actions=frozenset(Action(a) for a in item.actions),
            expires_at=item.token_expires_at,
            version=int(item.minted_for_version),
            used=bool(item.used),
        )

    def add_token(self, tenant_id: str, token: ActionToken) -> None:
        ensure_bound()
        _token_item(tenant_id, token).save()

    def change(
        self,
        before: Appointment,
        after: Appointment,
        now: datetime,
        *,
        plan: LockPlan | None = None,
        spend_token: str | None = None,
        new_token: ActionToken | None = None,
        also: TransactionPart | None = None,
    ) -> None:
        """Commit a state change or a move, conditional on the version read.

        `plan` says which quanta to release, claim and keep (None = leave locks alone).
        Cancelling a class seat gives the seat back instead of releasing the session's locks,
        unless it was the last seat.
        """
        ensure_bound()
        t = before.tenant_id
        slot_positions: list[int] = []
        try:
            with transaction() as tx:
                ops = 0
                tx.save(_item(after, before.version))
                ops += 1
                if spend_token is not None:
                    tx.update(
                        TokenItem(keys.appointment_pk(t, before.id), keys.token_sk(spend_token)),
                        actions=[TokenItem.used.set(True)],
                        condition=TokenItem.pk.exists() & (TokenItem.used == False),  # noqa: E712
                    )
                    ops += 1
                if new_token is not None:
                    tx.save(_token_item(t, new_token))
                    ops += 1
                if plan is not None:
                    old_owner = before.id
                    for quantum in plan.release:
                        tx.delete(
                            LockItem(keys.lock_pk(t, before.provider_id), to_iso(quantum)),
                            condition=LockItem.owner == old_owner,
                        )
                        ops += 1
                    for quantum in plan.keep:
                        tx.save(_lock(after, quantum, after.id), condition=LockItem.owner == old_owner)
                        slot_positions.append(ops)
                        ops += 1
                    for quantum in plan.claim:
                        tx.save(_lock(after, quantum, after.id), condition=_free_or_expired(now))
                        slot_positions.append(ops)
                        ops += 1
                if also is not None:
                    also(tx)  # e.g. a refund request that must commit with the cancellation
        except TransactWriteError as exc:
            _raise_lost_race(exc, slot_positions, after)

    def move_provider(
        self,
        before: Appointment,
        after: Appointment,
        now: datetime,
        old_quanta: list[datetime],
        new_quanta: list[datetime],
        new_token: ActionToken,
    ) -> None:
        """Release the old provider's quanta and claim the new provider's, in one transaction."""
        ensure_bound()
        t = before.tenant_id
        claim_positions: list[int] = []
        try:
            with transaction() as tx:
                tx.save(_item(after, before.version))
                tx.save(_token_item(t, new_token))
                for quantum in old_quanta:
                    tx.delete(
                        LockItem(keys.lock_pk(t, before.provider_id), to_iso(quantum)),
                        condition=LockItem.owner == before.id,
                    )
                for index, quantum in enumerate(new_quanta):
                    tx.save(_lock(after, quantum, after.id), condition=_free_or_expired(now))
                    claim_positions.append(2 + len(old_quanta) + index)
        except TransactWriteError as exc:
            _raise_lost_race(exc, claim_positions, after)

    def release_seat(
        self,
        before: Appointment,
        after: Appointment,
        quanta: list[datetime],
        spend_token: str | None = None,
        also: TransactionPart | None = None,
    ) -> None:
        """Cancel one class seat: the seat goes back; the last seat also frees the session's locks."""
        ensure_bound()
        t = before.tenant_id
        session_pk = keys.session_pk(t, before.provider_id, before.service_id, to_iso(before.start))
        try:
            session = SessionItem.get(session_pk, keys.SESSION_SK)
        except DoesNotExist:
            session = None
        try:
            with transaction() as tx:
                tx.save(_item(after, before.version))
                if spend_token is not None:
                    tx.update(
                        TokenItem(keys.appointment_pk(t, before.id), keys.token_sk(spend_token)),
                        actions=[TokenItem.used.set(True)],
                        condition=TokenItem.pk.exists() & (TokenItem.used == False),  # noqa: E712
                    )
                tx.delete(AttendeeItem(session_pk, keys.attendee_sk(email_hash(before.client.email))))
                if session is not None and int(session.seats) <= 1:
                    tx.delete(SessionItem(session_pk, keys.SESSION_SK), condition=SessionItem.seats == 1)
                    for quantum in quanta:
                        tx.delete(
                            LockItem(keys.lock_pk(t, before.provider_id), to_iso(quantum)),
                            condition=LockItem.owner == _session_key(before),
                        )
                elif session is not None:
                    tx.update(
                        SessionItem(session_pk, keys.SESSION_SK),
                        actions=[SessionItem.seats.add(-1)],
                        condition=SessionItem.seats > 1,
                    )
                if also is not None:
                    also(tx)
        except TransactWriteError as exc:
            if lost_race(exc) is None:
                raise
            raise ConcurrentUpdateError("The class changed meanwhile; please retry.") from exc

    def mark_calendar_conflict(self, tenant_id: str, appointment_id: str) -> None:
        """Set `calendar_conflict` WITHOUT bumping the version: the appointment itself did not
        change (its reminders, effects and the client's links are keyed to the version)."""
        ensure_bound()
        AppointmentItem._get_connection().update_item(
            keys.appointment_pk(tenant_id, appointment_id),
            keys.APPOINTMENT_SK,
            actions=[AppointmentItem.calendar_conflict.set(True)],
            condition=AppointmentItem.pk.exists(),
        )

    def session_exists(self, tenant_id: str, provider_id: str, service_id: str, start: datetime) -> bool:
        ensure_bound()
        try:
            SessionItem.get(keys.session_pk(tenant_id, provider_id, service_id, to_iso(start)), keys.SESSION_SK)
        except DoesNotExist:
            return False
        return True


def _raise_lost_race(exc: TransactWriteError, claim_positions: list[int], after: Appointment) -> NoReturn:
    """A move that lost: 409 `slot_unavailable` when a claimed quantum was taken, else a concurrent edit."""
    lost = lost_race(exc)
    if lost is None:
        raise exc
    if set(lost) & set(claim_positions):
        raise SlotUnavailableError(
            "That time was just taken.", {"providerId": after.provider_id, "start": to_iso(after.start)}
        ) from exc
    raise ConcurrentUpdateError("The appointment changed meanwhile; read it again.") from exc


def money_of(item: MoneyItem) -> Money:
    return Money(
        currency=item.currency,
        paid_cents=int(item.paid or 0),
        refunded_cents=int(item.refunded or 0),
        refundable_cents=int(item.refundable or 0),
        checkout_session_id=item.checkout_session_id,
        payment_intent_id=item.payment_intent_id,
        customer_id=item.customer_id,
        payment_method_id=item.payment_method_id,
    )


TransactionPart = Callable[[TransactWrite], None]
"""More writes another repository adds to one of ours, so both commit or neither does."""


class IdempotencyRaceError(Exception):
    """Another request with the same idempotency key committed first; read its result."""


def all_items_of(tenant_id: str, appointment_id: str) -> list[TableItem]:
    """Every item under an appointment's partition (tests and audits)."""
    ensure_bound()
    return list(TableItem.query(keys.appointment_pk(tenant_id, appointment_id)))
