"""Conflicts: which slot starts a provider's bookings, holds, busy blocks and full classes rule out.

A slot at s takes [s - Bb, s + D + Ba) from its provider; it conflicts with an occupied
[a, b) exactly when a - (D + Ba) < s < b + Bb. So each occupancy forbids an open interval
of starts, and finding the free starts of a window is a walk over sorted occupancies with
`bisect`, never a scan of every booking for every start. Slot starts are whole UTC seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from math import ceil, floor
from operator import attrgetter, le

from chalicelib.domain.windows import exact_epoch

_starts = attrgetter("start")
_ends = attrgetter("end")


@dataclass(frozen=True)
class Occupancy:
    """Time a provider cannot give to another booking."""

    start: datetime  # tz-aware; already widened by that booking's own buffers
    end: datetime
    session_key: tuple[str, datetime] | None = None  # (service_id, session start UTC) of a group-class seat


@dataclass(frozen=True)
class Blocking:
    """What stops starts the windows allow, for one service on one provider.

    Plain occupancies are kept sorted by start with the running maximum of their ends, so
    the last occupancy starting before s + D + Ba conflicts exactly when that maximum passes
    s - Bb: overlapping bookings need no merging. Instants are UTC `timestamp()` floats,
    exact to the microsecond until about 2200, and only ever compared with whole seconds or
    rounded towards the free side, so half-open edges stay exact. A group class's own seats
    forbid starts the same way except at their own session start, so they stay apart.
    """

    before: int  # seconds of buffer ahead of a slot (Bb)
    reach: int  # seconds from a slot's start to the end of its buffer after (D + Ba)
    starts: list[float]  # plain occupancies' starts, sorted
    ends_max: list[float]  # ends_max[i] = the latest end among starts[0..i]
    sessions: list[tuple[int, int, int | None]]  # this class's seats: (low, high, session start), sorted
    session_lows: list[int]
    session_span: int  # the widest session interval, which bounds the scan for one start
    seats_taken: Mapping[int, int]

    @classmethod
    def of(
        cls,
        occupied: Iterable[Occupancy],
        seats_taken: Mapping[datetime, int],
        session_service_id: str | None,
        before_seconds: int,
        reach_seconds: int,
    ) -> Blocking:
        """Index `occupied` for slots with `before_seconds` of buffer ahead and `reach_seconds`
        (duration + buffer after) from their start; `session_service_id` names the group class
        whose own seats are exempt at their session start, None for one-to-one services."""
        occupied = tuple(occupied)
        starts = list(map(_starts, occupied))
        ends = list(map(_ends, occupied))
        sessions: set[tuple[int, int, int | None]] = set()
        if session_service_id is None and not any(map(le, ends, starts)):
            lows = list(map(datetime.timestamp, starts))  # the usual case, kept in C loops
            highs = list(map(datetime.timestamp, ends))
        else:
            lows, highs = [], []
            for occupancy in occupied:
                if occupancy.end <= occupancy.start:
                    continue  # an empty interval occupies nothing
                low, high = occupancy.start.timestamp(), occupancy.end.timestamp()
                key = occupancy.session_key
                if key is not None and key[0] == session_service_id:
                    forbidden = (floor(low) - reach_seconds, ceil(high) + before_seconds)
                    sessions.add((*forbidden, exact_epoch(key[1])))
                else:
                    lows.append(low)
                    highs.append(high)
        order = sorted(range(len(lows)), key=lows.__getitem__)
        own = sorted(sessions)
        seats: dict[int, int] = {}
        for session_start, taken in seats_taken.items():
            exact = exact_epoch(session_start)
            if exact is not None:
                seats[exact] = seats.get(exact, 0) + taken
        return cls(
            before=before_seconds,
            reach=reach_seconds,
            starts=[lows[index] for index in order],
            ends_max=list(accumulate((highs[index] for index in order), max)),
            sessions=own,
            session_lows=[low for low, _, _ in own],
            session_span=max((high - low for low, high, _ in own), default=0),
            seats_taken=seats,
        )

    def blocks(self, start: int) -> bool:
        """Whether a plain occupancy conflicts with a slot at `start`."""
        index = bisect_left(self.starts, start + self.reach) - 1
        return index >= 0 and self.ends_max[index] > start - self.before

    def free_progression(self, first: int, last: int, step: int) -> list[int]:
        """The starts first, first + step, ... <= last that no plain occupancy conflicts with.

        Jumps from gap to gap with `bisect`, so the cost follows the bookings near the range,
        and the starts of each gap come from `range`.
        """
        starts, ends_max, before, reach = self.starts, self.ends_max, self.before, self.reach
        count = len(starts)
        free: list[int] = []
        start = first
        while start <= last:
            index = bisect_left(starts, start + reach)
            if index and ends_max[index - 1] > start - before:
                blocked_until = ceil(ends_max[index - 1]) + before
            elif index == count:
                free.extend(range(start, last + 1, step))
                break
            else:
                # Free up to the start that would end its buffer right at the next occupancy.
                free.extend(range(start, min(last, floor(starts[index]) - reach) + 1, step))
                blocked_until = ceil(ends_max[index]) + before
            start = blocked_until + (first - blocked_until) % step
        return free

    def seats_left(self, start: int, capacity: int) -> int | None:
        """Seats a group session at `start` still has; None when it is full or another session of
        the same class overlaps it."""
        left = capacity - self.seats_taken.get(start, 0)
        if left <= 0:
            return None
        first = bisect_right(self.session_lows, start - self.session_span)
        for index in range(first, bisect_left(self.session_lows, start)):
            _, high, session_start = self.sessions[index]
            if high > start and session_start != start:
                return None
        return left


NOTHING_BLOCKS = Blocking(
    before=0, reach=0, starts=[], ends_max=[], sessions=[], session_lows=[], session_span=0, seats_taken={}
)
"""Used to tell 'outside availability' from 'taken': the same starts with no bookings at all."""
