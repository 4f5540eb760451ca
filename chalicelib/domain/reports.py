"""Reports as pure functions of the ledger, the appointments and the weekly rules.

Dates are the tenant's local dates and ranges are inclusive; revenue is on a cash basis
(counted at the instant money moved), everything else by the appointment's start.
Available minutes come from the rules the slot engine reads (`WindowPlan`) and are turned
into instants with the same `ZoneClock`, so a DST day offers 23 or 25 hours of a 24-hour rule.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.appointments import Appointment, AppointmentStatus
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.domain.windows import DateOverride, WeeklyRule, WindowPlan, ZoneClock, epoch_floor

MAX_DAYS = 366
MINUTES_PER_DAY = 1440
BOOKED = frozenset({AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED})


class Granularity(enum.Enum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday first; labelled by their Monday
    MONTH = "month"


@dataclass(frozen=True)
class LocalRange:
    """Local dates `first`..`last` (inclusive) in `zone`, and the instants that bound them."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The local midnight that ends `last` (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def period_of(day: date, granularity: Granularity) -> str:
    if granularity is Granularity.DAY:
        return day.isoformat()
    if granularity is Granularity.WEEK:
        return (day - timedelta(days=day.weekday())).isoformat()
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class RevenueRow:
    period: str
    gross_cents: int = 0
    refunds_cents: int = 0
    fees_cents: int = 0
    payments: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunds_cents - self.fees_cents


def revenue(entries: Iterable[LedgerEntry], span: LocalRange, granularity: Granularity) -> list[RevenueRow]:
    """One row per period of the range, empty periods included (a chart needs them).

    Each entry's local day is found by bisecting the range's local midnights (as UTC
    seconds) rather than converting every instant to the zone: a month of a busy tenant is
    tens of thousands of entries."""
    days = span.days()
    midnights = [datetime.combine(day, time(0), span.zone).timestamp() for day in days]
    midnights.append(span.end.timestamp())
    labels = [period_of(day, granularity) for day in days]
    periods = list(dict.fromkeys(labels))
    period_of_day = [periods.index(label) for label in labels]
    gross, refunds, fees, payments = ([0] * len(periods) for _ in range(4))
    first, after = midnights[0], midnights[-1]
    for entry in entries:
        moment = entry.at.timestamp()
        if not first <= moment < after:
            continue
        index = period_of_day[bisect_right(midnights, moment) - 1]
        if entry.kind is LedgerKind.CHARGE:
            gross[index] += entry.amount_cents
            payments[index] += 1
        elif entry.kind is LedgerKind.REFUND:
            refunds[index] += entry.amount_cents
        elif entry.kind is LedgerKind.APPLICATION_FEE:
            fees[index] += entry.amount_cents
    return [RevenueRow(period, gross[i], refunds[i], fees[i], payments[i]) for i, period in enumerate(periods)]


@dataclass(frozen=True)
class ServiceRow:
    service_id: str
    service_name: str
    bookings: int
    completed: int
    cancelled: int
    no_shows: int
    revenue_cents: int

    @property
    def no_show_rate(self) -> float:
        """No-shows among the appointments that were due to happen (completed or no-show)."""
        due = self.completed + self.no_shows
        return round(self.no_shows / due, 4) if due else 0.0


def services(appointments: Iterable[Appointment]) -> list[ServiceRow]:
    """Per service, every appointment made in the range (cancelled ones too), by name; revenue is
    what was kept. The name is the latest appointment's: a renamed or deleted service still reports."""
    grouped: dict[str, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        grouped[appointment.service_id].append(appointment)
    rows = [
        ServiceRow(
            service_id=service_id,
            service_name=max(found, key=lambda a: a.start).service_name,
            bookings=len(found),
            completed=sum(a.status is AppointmentStatus.COMPLETED for a in found),
            cancelled=sum(a.status is AppointmentStatus.CANCELLED for a in found),
            no_shows=sum(a.status is AppointmentStatus.NO_SHOW for a in found),
            revenue_cents=sum(a.amount_paid_cents - a.amount_refunded_cents for a in found),
        )
        for service_id, found in grouped.items()
    ]
    return sorted(rows, key=lambda row: (row.service_name, row.service_id))


@dataclass(frozen=True)
class ClientRow:
    email: str
    name: str
    visits: int
    first_visit: datetime
    last_visit: datetime
    spent_cents: int
    refunded_cents: int
    lifetime_value_cents: int


def clients(in_range: Sequence[Appointment], lifetime: Mapping[str, int]) -> list[ClientRow]:
    """Clients with an appointment in the range: their visits there (completed or confirmed) and
    money there; `lifetime` is each lower-cased email's spent minus refunded, all time."""
    grouped: dict[str, list[Appointment]] = defaultdict(list)
    for appointment in in_range:
        grouped[appointment.client.email.lower()].append(appointment)
    rows = []
    for email, found in grouped.items():
        found.sort(key=lambda a: a.start)
        visits = [a for a in found if a.status in BOOKED]
        rows.append(
            ClientRow(
                email=email,
                name=found[-1].client.name,
                visits=len(visits),
                first_visit=found[0].start,
                last_visit=found[-1].start,
                spent_cents=sum(a.amount_paid_cents for a in found),
                refunded_cents=sum(a.amount_refunded_cents for a in found),
                lifetime_value_cents=lifetime.get(email, 0),
            )
        )
    return sorted(rows, key=lambda row: (-row.lifetime_value_cents, row.email))


@dataclass(frozen=True)
class UtilizationRow:
    provider_id: str
    provider_name: str
    available_minutes: int
    booked_minutes: int

    @property
    def utilization(self) -> float:
        return round(min(1.0, self.booked_minutes / self.available_minutes), 4) if self.available_minutes else 0.0


def open_plan(rules: Iterable[WeeklyRule], overrides: Mapping[date, DateOverride]) -> WindowPlan:
    """The provider's working windows whatever service a rule is limited to: at work is at work."""
    return WindowPlan.build((replace(rule, service_ids=None) for rule in rules), overrides, "")


def available_spans(plan: WindowPlan, zone: ZoneInfo, span: LocalRange) -> list[tuple[int, int]]:
    """The provider's open time on the range's dates as UTC-second spans, from the same windows and
    the same wall-to-instant rule as availability (a window ending at 24:00 ends at next midnight)."""
    clock = ZoneClock(zone)
    found: list[tuple[int, int]] = []
    for day in span.days():
        for start, end in plan.on(day):
            low = clock.bound_to_epoch(day, start)
            high = (
                clock.bound_to_epoch(day + timedelta(days=1), 0)
                if end >= MINUTES_PER_DAY
                else clock.bound_to_epoch(day, end)
            )
            if high > low:
                found.append((low, high))
    return found


def utilization(
    provider_id: str, provider_name: str, open_spans: Sequence[tuple[int, int]], appointments: Iterable[Appointment]
) -> UtilizationRow:
    """Booked minutes are the confirmed and completed appointments' time inside the open spans."""
    booked = 0
    for appointment in appointments:
        if appointment.provider_id != provider_id or appointment.status not in BOOKED:
            continue
        start, end = epoch_floor(appointment.start), epoch_floor(appointment.end)
        booked += sum(max(0, min(end, high) - max(start, low)) for low, high in open_spans)
    available = sum(high - low for low, high in open_spans)
    return UtilizationRow(provider_id, provider_name, available // 60, booked // 60)


# --- totals: a report's last line, summed from its rows -----------------------------------


def revenue_totals(rows: Sequence[RevenueRow]) -> RevenueRow:
    return RevenueRow(
        "total",
        sum(r.gross_cents for r in rows),
        sum(r.refunds_cents for r in rows),
        sum(r.fees_cents for r in rows),
        sum(r.payments for r in rows),
    )


def utilization_totals(rows: Sequence[UtilizationRow]) -> UtilizationRow:
    """The ratio of the sums (not the mean of the ratios): an idle part-timer weighs less."""
    return UtilizationRow("", "", sum(r.available_minutes for r in rows), sum(r.booked_minutes for r in rows))


def service_totals(rows: Sequence[ServiceRow]) -> ServiceRow:
    return ServiceRow(
        "",
        "",
        sum(r.bookings for r in rows),
        sum(r.completed for r in rows),
        sum(r.cancelled for r in rows),
        sum(r.no_shows for r in rows),
        sum(r.revenue_cents for r in rows),
    )


@dataclass(frozen=True)
class ClientTotals:
    clients: int
    visits: int
    spent_cents: int
    refunded_cents: int


def client_totals(rows: Sequence[ClientRow]) -> ClientTotals:
    return ClientTotals(
        len(rows),
        sum(r.visits for r in rows),
        sum(r.spent_cents for r in rows),
        sum(r.refunded_cents for r in rows),
    )
