"""One-time schedules on EventBridge Scheduler (reminders, hold and offer expiry).

moto accepts any expression and never fires, so expressions and names are validated here,
and the local stack fires due schedules itself (infra/local/pumps.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from chalicelib.domain.schedules import OneTimeSchedule
from chalicelib.gateways.aws import client

__all__ = ["EventBridgeScheduler", "InMemoryScheduler", "InvalidScheduleError", "OneTimeSchedule", "SchedulerTarget"]

# Matched whole (fullmatch): `$` would also accept a trailing newline.
_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)", re.ASCII)


class InvalidScheduleError(ValueError):
    """A name or `at()` expression EventBridge Scheduler would refuse."""


def at_expression(instant: datetime) -> str:
    return "at(" + instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + ")"


def parse_at_expression(expression: str) -> datetime:
    """The instant an `at(yyyy-mm-ddThh:mm:ss)` expression (UTC) names; raises InvalidScheduleError."""
    match = _AT.fullmatch(expression)
    if match is None:
        raise InvalidScheduleError(f"not an at() expression: {expression!r}")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise InvalidScheduleError(f"not a real date and time: {expression!r}") from exc


def validate(schedule: OneTimeSchedule) -> str:
    if not _NAME.fullmatch(schedule.name):
        raise InvalidScheduleError(f"schedule name {schedule.name!r} is not 1-64 of [0-9a-zA-Z-_.]")
    if schedule.at.tzinfo is None:
        raise InvalidScheduleError("schedule time must be timezone-aware")
    expression = at_expression(schedule.at)
    parse_at_expression(expression)
    return expression


class SchedulerGateway(Protocol):
    def create(self, schedule: OneTimeSchedule) -> None: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class SchedulerTarget:
    group: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str | None = None


class EventBridgeScheduler:
    def __init__(self, target: SchedulerTarget) -> None:
        self._target = target

    def create(self, schedule: OneTimeSchedule) -> None:
        """Create once: a second create of the same name is treated as done (redelivery is normal)."""
        expression = validate(schedule)
        target: dict[str, Any] = {
            "Arn": self._target.target_arn,
            "RoleArn": self._target.role_arn,
            "Input": json.dumps(schedule.payload, sort_keys=True),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
        }
        if self._target.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self._target.dead_letter_arn}
        try:
            client("scheduler").create_schedule(
                Name=schedule.name,
                GroupName=self._target.group,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                State="ENABLED",
                Target=target,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise

    def delete(self, name: str) -> None:
        """Delete if present; an already deleted (or fired) schedule is fine."""
        try:
            client("scheduler").delete_schedule(Name=name, GroupName=self._target.group)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise


@dataclass
class InMemoryScheduler:
    schedules: dict[str, OneTimeSchedule] = field(default_factory=dict)

    def create(self, schedule: OneTimeSchedule) -> None:
        validate(schedule)
        self.schedules.setdefault(schedule.name, schedule)

    def delete(self, name: str) -> None:
        self.schedules.pop(name, None)

    def due(self, now: datetime) -> list[OneTimeSchedule]:
        return sorted((s for s in self.schedules.values() if s.at <= now), key=lambda s: s.at)
