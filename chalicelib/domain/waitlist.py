"""The waitlist: entries, their wall-clock windows, which entries a freed time suits, and
the pure scoring that decides who is offered it first.

A freed time is offered to the best-scored entry that fits it; equal scores go to the
earlier join, then the smaller id, so the order is total and repeatable. Each offer keeps
the score and its parts, so a business can see why someone was asked first.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.appointments import ClientInfo
from chalicelib.domain.windows import MINUTES_PER_DAY, wall_minutes

MAX_ACTIVE_ENTRIES_PER_EMAIL = 3
MAX_WINDOWS = 14
DEFAULT_OFFER_MINUTES = 15
DEFAULT_OFFERS_PER_HOUR = 25
WAITED_CAP_DAYS = 30  # waiting longer than this earns no more points


class EntryStatus(enum.Enum):
    PENDING = "pending"  # joined, email not confirmed yet
    ACTIVE = "active"  # confirmed: receives offers
    BOOKED = "booked"  # retired: a booking by that email for a matching time (an accepted offer too)
    REMOVED = "removed"  # removed by the business, with a reason


class OfferStatus(enum.Enum):
    QUEUED = "queued"  # holds the time, its mail waits for the tenant's hourly allowance
    OPEN = "open"  # mailed; accept or decline until expires_at
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


HOLDING_OFFERS = frozenset({OfferStatus.QUEUED, OfferStatus.OPEN})
CLOSED_OFFERS = frozenset({OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED})


class SlotStatus(enum.Enum):
    OFFERING = "offering"  # an offer holds the time
    FILLED = "filled"  # an offer was accepted
    RETURNED = "returned"  # nobody (left) to ask: the time is back in availability


@dataclass(frozen=True)
class WaitWindow:
    """A time a client could come: on one date or every such weekday, HH:MM to HH:MM in their zone."""

    start: str
    end: str
    date: dt.date | None = None
    day_of_week: int | None = None  # 0 = Monday ... 6 = Sunday

    def applies_to(self, day: dt.date) -> bool:
        return self.date == day if self.date is not None else self.day_of_week == day.weekday()


@dataclass(frozen=True)
class WaitlistEntry:
    id: str
    tenant_id: str
    service_id: str
    provider_id: str | None  # None: any provider
    windows: tuple[WaitWindow, ...]
    client: ClientInfo
    status: EntryStatus
    joined_at: datetime
    updated_at: datetime
    vip: bool = False
    removed_reason: str | None = None
    confirmed_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True)
class ScoreWeights:
    """Per-tenant weights; each part of a score is its weight times a factor in [0, 1]."""

    vip: float = 100.0
    service_match: float = 20.0
    provider_preference: float = 30.0
    window_fit: float = 10.0
    time_waited: float = 30.0  # earned linearly over WAITED_CAP_DAYS

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> ScoreWeights:
        known = {name: float(data[name]) for name in cls.__dataclass_fields__ if data and name in data}
        return cls(**known)

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class FreedTime:
    """A provider's time that just became free, as the waitlist sees it."""

    provider_id: str
    service_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ScoreParts:
    vip: float
    service_match: float
    provider_preference: float
    window_fit: float
    time_waited: float

    @property
    def total(self) -> float:
        return round(self.vip + self.service_match + self.provider_preference + self.window_fit + self.time_waited, 6)

    def as_dict(self) -> dict[str, float]:
        return {
            "vip": self.vip,
            "serviceMatch": self.service_match,
            "providerPreference": self.provider_preference,
            "windowFit": self.window_fit,
            "timeWaited": self.time_waited,
        }


@dataclass(frozen=True)
class Candidate:
    entry: WaitlistEntry
    parts: ScoreParts

    @property
    def score(self) -> float:
        return self.parts.total

    def order_key(self) -> tuple[float, datetime, str]:
        return (-self.score, self.joined_at, self.entry.id)

    @property
    def joined_at(self) -> datetime:
        return self.entry.joined_at


def window_fit(window: WaitWindow, start: datetime, end: datetime, zone: str) -> float | None:
    """How snugly [start, end) sits in the window, in the client's wall clock: None when it does
    not fit inside; else the time's share of the window (1.0: the window is exactly this time)."""
    tz = ZoneInfo(zone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    if not window.applies_to(day):
        return None
    first = local_start.hour * 60 + local_start.minute
    if local_end.date() == day:
        last = local_end.hour * 60 + local_end.minute
    elif local_end.date() == day + timedelta(days=1) and (local_end.hour, local_end.minute) == (0, 0):
        last = MINUTES_PER_DAY
    else:
        return None  # crosses the client's midnight: no window holds it
    low, high = wall_minutes(window.start), wall_minutes(window.end)
    if first < low or last > high or high <= low:
        return None
    return round((last - first) / (high - low), 6)


def best_fit(entry: WaitlistEntry, start: datetime, end: datetime) -> float | None:
    fits = [f for w in entry.windows if (f := window_fit(w, start, end, entry.client.timezone)) is not None]
    return max(fits) if fits else None


def score(entry: WaitlistEntry, freed: FreedTime, fit: float, weights: ScoreWeights, now: datetime) -> ScoreParts:
    """The parts of an entry's score for a freed time it fits (`fit` from `best_fit`)."""
    waited_days = max((now - entry.joined_at).total_seconds(), 0.0) / 86400
    return ScoreParts(
        vip=weights.vip if entry.vip else 0.0,
        service_match=weights.service_match if entry.service_id == freed.service_id else 0.0,
        provider_preference=weights.provider_preference if entry.provider_id == freed.provider_id else 0.0,
        window_fit=round(weights.window_fit * fit, 6),
        time_waited=round(weights.time_waited * min(waited_days / WAITED_CAP_DAYS, 1.0), 6),
    )


@dataclass(frozen=True)
class Suitability:
    """Which services may take a freed time: the provider offers them and they fit in it."""

    service_fits: Mapping[str, datetime]  # service id -> the end its booking at the freed start would have


def rank(
    entries: Iterable[WaitlistEntry],
    freed: FreedTime,
    suitability: Suitability,
    weights: ScoreWeights,
    now: datetime,
    exclude: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Active entries that suit the freed time, best first (score, then join time, then id)."""
    ranked: list[Candidate] = []
    for entry in entries:
        if entry.status is not EntryStatus.ACTIVE or entry.id in exclude:
            continue
        if entry.provider_id is not None and entry.provider_id != freed.provider_id:
            continue
        end = suitability.service_fits.get(entry.service_id)
        if end is None:
            continue
        fit = best_fit(entry, freed.start, end)
        if fit is None:
            continue
        ranked.append(Candidate(entry, score(entry, freed, fit, weights, now)))
    return sorted(ranked, key=Candidate.order_key)


def retires(entry: WaitlistEntry, service_id: str, email: str, start: datetime, end: datetime) -> bool:
    """A booking by the entry's email, of its service, at a time one of its windows holds."""
    if entry.status not in (EntryStatus.PENDING, EntryStatus.ACTIVE):
        return False
    if entry.client.email.strip().lower() != email.strip().lower() or entry.service_id != service_id:
        return False
    return best_fit(entry, start, end) is not None


@dataclass(frozen=True)
class WaitlistOffer:
    id: str
    tenant_id: str
    entry_id: str
    service_id: str
    provider_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    status: OfferStatus
    score: float
    score_parts: dict[str, float]
    created_at: datetime
    expires_at: datetime
    round: int
    round_sk: str = ""
    sent_at: datetime | None = None
    closed_at: datetime | None = None
    appointment_id: str | None = None
    client_email: str = ""
    token_hash: str | None = None
    version: int = 1


@dataclass(frozen=True)
class WaitlistSettings:
    offer_minutes: int = DEFAULT_OFFER_MINUTES
    offers_per_hour: int = DEFAULT_OFFERS_PER_HOUR
    weights: ScoreWeights = field(default_factory=ScoreWeights)


def rate_window(now: datetime) -> datetime:
    """The clock hour an offer mail is counted in (fixed windows: the next one starts on the hour)."""
    return now.replace(minute=0, second=0, microsecond=0)


def next_rate_window(now: datetime) -> datetime:
    return rate_window(now) + timedelta(hours=1)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class FreedSlot:
    """The waitlist's record of one provider's start: its current round of offers."""

    tenant_id: str
    provider_id: str
    service_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    status: SlotStatus
    round: int
    freed_at: datetime
    cause: str
    round_sk: str
    current_offer_id: str | None = None
    offered_entry_ids: tuple[str, ...] = ()

    @property
    def freed(self) -> FreedTime:
        return FreedTime(self.provider_id, self.service_id, self.start, self.end)


@dataclass(frozen=True)
class FreedRound:
    """One freeing of a time as the report counts it."""

    freed_at: datetime
    offers: int
    filled_at: datetime | None
