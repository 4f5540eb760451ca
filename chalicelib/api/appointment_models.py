"""Availability, bookings, appointments and their changes as the API reads and writes them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, model_validator

from chalicelib.api.model_types import (
    Body,
    Cents,
    Currency,
    Day,
    Email,
    Id,
    Instant,
    Name,
    Note,
    Page,
    Paged,
    PlainText,
    Query,
    Timezone,
    omitted,
    problems,
)
from chalicelib.domain.appointments import AppointmentStatus, ClientInfo, PaymentStatus
from chalicelib.domain.clock import from_iso
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.validation import calendar_date
from chalicelib.services.availability import MAX_RANGE_DAYS
from chalicelib.services.booking import BookingRequest
from chalicelib.services.refunds import AMOUNT, POLICY, RefundChoice

Token = Annotated[str, Field(min_length=1, max_length=100, description="the appointment's action token")]


def _date_or_instant(value: str) -> str:
    if calendar_date(value) is None:
        try:
            from_iso(value)
        except ValueError:
            raise ValueError("must be YYYY-MM-DD or an ISO-8601 instant") from None
    return value


DateOrInstant = Annotated[
    str,
    Field(max_length=40, description="an instant, or a date: from its local midnight / to the end of that day"),
    AfterValidator(_date_or_instant),
]


def instant_or_date(text: str | None, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """An instant as given, or a date's local midnight; with `end_of_day` the midnight that ends it."""
    if text is None:
        return None
    day = calendar_date(text)
    if day is None:
        return from_iso(text)
    return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), zone)


class AvailabilityQuery(Query):
    start: Day = Field(description="first local date, inclusive")
    end: Day = Field(description=f"last local date, inclusive; at most {MAX_RANGE_DAYS} days after start")
    timezone: Timezone = Field(description="IANA zone the dates are counted in and `localStart` is shown in")
    provider_id: Id | None = Field(None, description="only this provider's slots")

    @model_validator(mode="after")
    def _range_fits(self) -> Self:
        if self.end < self.start:
            raise problems({("end",): "must not be before start"})
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise problems({("end",): f"more than {MAX_RANGE_DAYS} days after start"})
        return self


class TokenQuery(Query):
    token: Token | None = Field(None, description="the action token; prefer the X-Manage-Token header")


class TokenHeader(Query):
    """The action token in a header (preferred: a token in a URL ends up in access logs)."""

    manage_token: Token | None = Field(None, alias="x-manage-token", description="the appointment's action token")

    def token(self, given: str | None) -> str:
        """The header's token, else the one in the body or query; one of them is required."""
        token = self.manage_token or given
        if token is None:
            raise ValidationError("The action token is missing.", {"fields": {"token": "is required"}})
        return token


class WindowQuery(Page):
    """`from` and `to`: instants, or dates counted in the tenant's timezone (both inclusive)."""

    from_: DateOrInstant | None = Field(None, alias="from")
    to: DateOrInstant | None = None

    def checked(self, start: datetime, end: datetime, max_days: int) -> tuple[datetime, datetime]:
        if end <= start or end - start > timedelta(days=max_days):
            message = f"to must be after from, at most {max_days} days later."
            raise ValidationError(message, {"fields": {"to": "out of range"}})
        return start, end


class AppointmentQuery(WindowQuery):
    status: AppointmentStatus | None = None
    provider_id: Id | None = None
    service_id: Id | None = None

    def window(self, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
        """Default: from today's local midnight, 31 days; at most 366 days."""
        start = instant_or_date(self.from_, zone) or datetime.combine(now.astimezone(zone).date(), time(0), zone)
        return self.checked(start, instant_or_date(self.to, zone, end_of_day=True) or start + timedelta(days=31), 366)


class ClientBody(Body):
    name: Name
    email: Email
    phone: Annotated[str, Field(max_length=32), PlainText] | None = None
    timezone: Timezone = Field(description="the client's zone, used in their mail")


class NewBooking(Body):
    service_id: Id
    provider_id: Id | None = Field(None, description="null: any provider who offers the start")
    start: Instant = Field(description="a start that availability offers; any offset, normalised to UTC")
    client: ClientBody
    intake: dict[str, Any] = Field(default_factory=dict, description="intake field id -> answer")
    payment: Literal["deposit", "full"] | None = Field(None, description="may pay more than required, never less")
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    def to_domain(self) -> BookingRequest:
        return BookingRequest(
            service_id=self.service_id,
            provider_id=self.provider_id,
            start=self.start,
            client=ClientInfo(**self.client.model_dump()),
            intake=self.intake,
            payment=self.payment,
            idempotency_key=self.idempotency_key,
            skip_payment=getattr(self, "skip_payment", False),
        )


class AdminBooking(NewBooking):
    skip_payment: bool = Field(False, description="confirm without taking money")


class RefundAmount(Body):
    amount_cents: int = Field(ge=1, le=100_000_000)


class AdminCancel(Body):
    reason: Note | None = None
    refund: Literal["policy", "full", "none"] | RefundAmount | None = Field(
        "policy", description="policy: the cancellation policy's tier; null means policy"
    )

    def choice(self) -> RefundChoice:
        if isinstance(self.refund, RefundAmount):
            return RefundChoice(AMOUNT, self.refund.amount_cents)
        return RefundChoice(self.refund or POLICY)


class TokenCancel(Body):
    token: Token | None = Field(None, description="or the X-Manage-Token header")
    reason: Note | None = None


class Reschedule(Body):
    start: Instant
    provider_id: Id | None = Field(None, description="null: keep the provider if free, else any")


class TokenReschedule(Reschedule):
    token: Token | None = Field(None, description="or the X-Manage-Token header")


class Slot(Body):
    start: Instant
    end: Instant
    local_start: str = Field(description="the start in the requested timezone, with its offset")
    provider_ids: list[Id]
    seats_left: int = Field(ge=0, description="1 for one-to-one services")


class Availability(Body):
    timezone: Timezone
    slots: list[Slot]


class Client(Body):
    name: str
    email: str
    phone: str | None
    timezone: str


class Appointment(Body):
    id: Id
    service_id: Id
    service_name: str
    provider_id: Id
    status: AppointmentStatus
    start: Instant
    end: Instant
    timezone: Timezone = Field(description="the provider's zone")
    client: Client
    intake: dict[str, Any]
    price_cents: Cents
    currency: Currency
    amount_due_now_cents: Cents = Field(description="what must be paid to confirm a pending hold")
    amount_paid_cents: Cents
    amount_refunded_cents: Cents
    payment_status: PaymentStatus
    hold_until: Instant | None = Field(description="a pending hold expires then unless paid")
    cancel_reason: str | None
    calendar_conflict: bool = Field(
        False, description="its event was deleted or moved in the provider's Google Calendar (the business decides)"
    )
    created_at: Instant
    updated_at: Instant
    version: int


class Manage(Body):
    token: str = Field(description="single-use action token (also `X-Manage-Token`)")
    url: str = Field(description="the self-service page")


class Booked(Body):
    appointment: Appointment
    manage: Manage
    checkout_url: str | None = omitted(description="Stripe Checkout, when money is due now")


class CancelRefund(Body):
    id: str | None = omitted()
    amount_cents: Cents
    status: Literal["none", "requested", "succeeded", "failed"]


class Cancelled(Body):
    appointment: Appointment
    refund: CancelRefund


class NoShowFee(Body):
    status: Literal["not_configured", "no_saved_card", "declined", "charged"]
    amount_cents: Cents | None = omitted()
    decline_code: str | None = omitted()


class NoShow(Appointment):
    no_show_fee: NoShowFee


AppointmentPage = Paged[Appointment]
