"""Availability windows: from a provider's wall-clock rules to absolute UTC seconds.

Rules are written in local wall time; bookings live in UTC. This module is the one place
that crosses that line, so spring-forward gaps and fall-back folds are decided here only:
a wall time inside a gap does not exist, an ambiguous one means its first occurrence, and
a window bound falls on the first instant whose wall time reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
SECONDS_PER_DAY = MINUTES_PER_DAY * 60

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")

WallWindow = tuple[int, int]
"""[start, end) in minutes after local midnight; end may be 1440 (24:00)."""


@dataclass(frozen=True)
class WeeklyRule:
    """Recurring hours on one weekday, optionally only for some services."""

    day_of_week: int  # 0 = Monday ... 6 = Sunday, as date.weekday()
    start: str  # "HH:MM"
    end: str  # "HH:MM", may be "24:00"; rules do not cross midnight
    service_ids: frozenset[str] | None  # None = all services


@dataclass(frozen=True)
class DateOverride:
    """Hours for one local date that replace the weekly rules; no intervals = day off."""

    date: date
    intervals: tuple[tuple[str, str], ...]


@lru_cache(maxsize=4096)
def wall_minutes(text: str) -> int:
    """'HH:MM' (or '24:00') -> minutes after midnight; rules are validated upstream, so bad text is a bug."""
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(f"not an HH:MM wall time: {text!r}")
    if match.group(1) is None:
        return MINUTES_PER_DAY
    return int(match.group(1)) * 60 + int(match.group(2))


def merge_windows(windows: Iterable[WallWindow]) -> tuple[WallWindow, ...]:
    """Union of wall windows; touching ones merge so that a slot may straddle the seam."""
    merged: list[WallWindow] = []
    for start, end in sorted(window for window in windows if window[0] < window[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True)
class WindowPlan:
    """One provider's merged wall windows for one service; weekly rules are parsed once per plan."""

    weekly: tuple[tuple[WallWindow, ...], ...]  # indexed by weekday
    overrides: Mapping[date, DateOverride]

    @classmethod
    def build(cls, rules: Iterable[WeeklyRule], overrides: Mapping[date, DateOverride], service_id: str) -> WindowPlan:
        """Keep only the rules that apply to `service_id`; overrides apply to every service."""
        per_day: list[list[WallWindow]] = [[] for _ in range(7)]
        for rule in rules:
            if rule.service_ids is None or service_id in rule.service_ids:
                per_day[rule.day_of_week].append((wall_minutes(rule.start), wall_minutes(rule.end)))
        return cls(weekly=tuple(merge_windows(day) for day in per_day), overrides=overrides)

    def on(self, day: date) -> tuple[WallWindow, ...]:
        """The merged windows of a local date: its override if it has one, else its weekday's rules."""
        override = self.overrides.get(day)
        if override is None:
            return self.weekly[day.weekday()]
        return merge_windows((wall_minutes(start), wall_minutes(end)) for start, end in override.intervals)


def epoch_floor(moment: datetime) -> int:
    """Whole UTC seconds at or before an aware instant."""
    return (moment - _EPOCH) // _SECOND


def epoch_ceil(moment: datetime) -> int:
    """Whole UTC seconds at or after an aware instant."""
    return -((_EPOCH - moment) // _SECOND)


def exact_epoch(moment: datetime) -> int | None:
    """UTC seconds of an instant on a whole second, else None (it can never equal a slot start)."""
    seconds = epoch_floor(moment)
    return seconds if seconds == epoch_ceil(moment) else None


def add_days(day: date, days: int) -> date:
    """`day` shifted by `days`, pinned to the calendar's ends instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


class ZoneClock:
    """Wall time <-> UTC seconds in one IANA zone, memoising each local midnight's offset.

    Most local dates have one UTC offset throughout; for those, converting a wall time is
    integer arithmetic (see `steady_offset`). Only transition days pay for zoneinfo calls.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._midnight_offsets: dict[date, int] = {}
        self._steady_midnights: dict[date, int | None] = {}

    def local_date(self, seconds: int) -> date:
        """The local date of an instant given in UTC seconds."""
        return datetime.fromtimestamp(seconds, self.zone).date()

    def today(self, now: datetime) -> date:
        """The local date of an aware instant."""
        return now.astimezone(self.zone).date()

    def steady_offset(self, day: date) -> int | None:
        """The UTC offset (seconds) of a date without a transition, else None.

        Compares the offsets at this and the next local midnight, so it assumes a date never
        holds two transitions that cancel out, which no IANA zone has had since 1970.
        """
        offset = self._midnight_offset(day)
        return offset if offset == self._midnight_offset(day + _ONE_DAY) else None

    def steady_midnight(self, day: date) -> int | None:
        """UTC seconds of local 00:00 on a date without a transition, else None.

        On such a date wall minute m is simply this + 60 m, which keeps slot alignment arithmetic.
        """
        if day in self._steady_midnights:
            return self._steady_midnights[day]
        offset = self.steady_offset(day)
        midnight = None if offset is None else _wall_seconds(day, 0) - offset
        self._steady_midnights[day] = midnight
        return midnight

    def wall_to_epoch(self, day: date, minute: int) -> int | None:
        """UTC seconds of a wall time: the first occurrence when ambiguous, None when it does not exist."""
        offset = self.steady_offset(day)
        if offset is not None:
            return _wall_seconds(day, minute) - offset
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != wall:
            return None
        return epoch_floor(instant)

    def bound_to_epoch(self, day: date, minute: int) -> int:
        """UTC seconds of a window bound: the first instant whose wall time reaches `minute` on `day`.

        That is the wall time itself when it exists (its first occurrence when ambiguous) and
        the moment of the jump when it falls in a spring-forward gap.
        """
        exact = self.wall_to_epoch(day, minute)
        if exact is not None:
            return exact
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        low, high = sorted(epoch_floor(wall.replace(tzinfo=self.zone, fold=fold)) for fold in (0, 1))
        # Invariant: the wall time at `low` is before `wall`, at `high` it is not.
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return high

    def _midnight_offset(self, day: date) -> int:
        cached = self._midnight_offsets.get(day)
        if cached is None:
            offset = datetime.combine(day, time(), self.zone).utcoffset()
            if offset is None:  # pragma: no cover - ZoneInfo always answers
                raise TypeError(f"{self.zone} gave no UTC offset")
            cached = offset // _SECOND
            self._midnight_offsets[day] = cached
        return cached


def _wall_seconds(day: date, minute: int) -> int:
    """A wall time counted as if the zone were UTC: UTC seconds = this minus the offset."""
    return (day.toordinal() - _EPOCH_ORDINAL) * SECONDS_PER_DAY + minute * 60
