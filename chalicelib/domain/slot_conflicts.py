"""Conflicts: which slot starts a provider's bookings, holds, busy blocks and full classes rule out.

A slot at s takes [s - Bb, s + D + Ba) from its provider; it conflicts with an occupied
[a, b) exactly when a - (D + Ba) < s < b + Bb. So each occupancy forbids an open interval
of starts, and finding the free starts of a window is a walk over sorted instants with
`bisect`, never a scan of every booking for every start. Slot starts are whole UTC seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
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

    Plain occupancies need neither merging nor pairing: with their starts and their ends
    sorted separately, the number conflicting with a slot at s is the number starting before
    s + D + Ba minus the number ending by s - Bb (every occupancy that ended has started).
    Occupancies are widened to whole UTC seconds (start rounded down, end up), which changes
    no answer because slot starts are whole seconds. A group class's own seats forbid starts
    the same way except at their own session start, so they stay apart in `sessions`.
    """

    before: int  # seconds of buffer ahead of a slot (Bb)
    reach: int  # seconds from a slot's start to the end of its buffer after (D + Ba)
    starts: list[int]  # plain occupancies' starts, sorted
    ends: list[int]  # plain occupancies' ends, sorted on their own
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
        # This is the hot path, so it stays in C loops. timestamp() is exact to the microsecond
        # until about 2200, so rounding it gives the exact enclosing whole seconds.
        occupied = tuple(occupied)
        exact_starts = list(map(datetime.timestamp, map(_starts, occupied)))
        exact_ends = list(map(datetime.timestamp, map(_ends, occupied)))
        sessions: set[tuple[int, int, int | None]] = set()
        if session_service_id is not None or any(map(le, exact_ends, exact_starts)):
            kept: list[int] = []
            for index, occupancy in enumerate(occupied):
                if exact_ends[index] <= exact_starts[index]:
                    continue  # an empty interval occupies nothing
                key = occupancy.session_key
                if key is not None and key[0] == session_service_id:
                    low = floor(exact_starts[index]) - reach_seconds
                    sessions.add((low, ceil(exact_ends[index]) + before_seconds, exact_epoch(key[1])))
                else:
                    kept.append(index)
            exact_starts = [exact_starts[index] for index in kept]
            exact_ends = [exact_ends[index] for index in kept]
        exact_starts.sort()  # floats sort fastest; rounding afterwards keeps the order
        exact_ends.sort()
        starts = list(map(floor, exact_starts))
        ends = list(map(ceil, exact_ends))
        own = sorted(sessions)
        seats: dict[int, int] = {}
        for session_start, taken in seats_taken.items():
            exact = exact_epoch(session_start)
            if exact is not None:
                seats[exact] = seats.get(exact, 0) + taken
        return cls(
            before=before_seconds,
            reach=reach_seconds,
            starts=starts,
            ends=ends,
            sessions=own,
            session_lows=[low for low, _, _ in own],
            session_span=max((high - low for low, high, _ in own), default=0),
            seats_taken=seats,
        )

    def blocks(self, start: int) -> bool:
        """Whether a plain occupancy conflicts with a slot at `start`."""
        return bisect_left(self.starts, start + self.reach) > bisect_right(self.ends, start - self.before)

    def free_progression(self, first: int, last: int, step: int) -> list[int]:
        """The starts first, first + step, ... <= last that no plain occupancy conflicts with.

        Jumps from gap to gap with `bisect`, so the cost follows the bookings near the range,
        and the starts of each gap come from `range`.
        """
        starts, ends, before, reach = self.starts, self.ends, self.before, self.reach
        count = len(starts)
        free: list[int] = []
        start = first
        while start <= last:
            started = bisect_left(starts, start + reach)
            if started > bisect_right(ends, start - before):
                # Blocked until at least `started` occupancies have ended.
                blocked_until = ends[started - 1] + before
            elif started == count:
                free.extend(range(start, last + 1, step))
                break
            else:
                # Free up to the start whose buffer after meets the next occupancy; past it,
                # blocked until one more occupancy than now has ended.
                free.extend(range(start, min(last, starts[started] - reach) + 1, step))
                blocked_until = ends[started] + before
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
    before=0, reach=0, starts=[], ends=[], sessions=[], session_lows=[], session_span=0, seats_taken={}
)
"""Used to tell 'outside availability' from 'taken': the same starts with no bookings at all."""
