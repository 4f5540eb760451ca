"""Lock quanta: how a booking claims its provider's time so overlaps cannot both commit.

Each booking owns one lock item per 5-minute quantum of its occupied interval, written in
the same transaction as the appointment with "absent or expired hold" as the condition.
Two bookings that share even one quantum cannot both commit (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

QUANTUM_MINUTES = 5
QUANTUM = timedelta(minutes=QUANTUM_MINUTES)
# A transaction holds at most 100 items. A reschedule touches the old and the new quanta
# plus the appointment and two token items, so one occupied interval is capped at 48 quanta.
MAX_OCCUPIED_MINUTES = 240
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def lock_quanta(start: datetime, end: datetime) -> list[datetime]:
    """The quantum starts covering [start, end): floor(start) up to, not including, end."""
    first = start - ((start - _EPOCH) % QUANTUM)
    quanta = []
    current = first
    while current < end:
        quanta.append(current.astimezone(UTC))
        current += QUANTUM
    return quanta


@dataclass(frozen=True)
class LockPlan:
    """What a move from one occupied interval to another does to the lock items."""

    release: list[datetime]  # old only: delete (if still ours)
    claim: list[datetime]  # new only: put (if free or an expired hold)
    keep: list[datetime]  # both: update in place (a transaction may not touch one item twice)


def plan_move(old: list[datetime], new: list[datetime]) -> LockPlan:
    old_set, new_set = set(old), set(new)
    return LockPlan(
        release=sorted(old_set - new_set),
        claim=sorted(new_set - old_set),
        keep=sorted(old_set & new_set),
    )
