"""Entry points fed by AWS rather than HTTP: the table's stream, one-time schedules, SES events.

Each one names the system as the actor, hands its input to one service and reports what
failed instead of dropping it.
"""

from __future__ import annotations

import json
import os
from functools import partial
from typing import Any

from chalice import Blueprint

from chalicelib.actor import SYSTEM, act_as
from chalicelib.api.lazy import registry

bp = Blueprint(__name__)

# Chalice needs the stream ARN when the app is loaded; the merge template replaces it with
# the table's real StreamArn at deploy time (infra/template.json).
STREAM_ARN = os.environ.get(
    "TABLE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/scheduling-dev/stream/1970-01-01T00:00:00.000"
)
CALENDAR_RENEW_WATCH_TASK = "calendar_renew_watch"  # chalicelib.domain.calendar_sync.RENEW_WATCH_TASK
MAIL_EVENTS_TOPIC = os.environ.get("MAIL_EVENTS_TOPIC", "scheduling-dev-mail-events")


def dispatch_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The stream handler's work, callable with the raw Lambda records (the local pump uses it too)."""
    from chalicelib.store.stream import decode  # boto3's deserializer: only the stream function needs it

    act_as(SYSTEM)
    failed = registry.dispatcher().handle_batch(
        (str(r.get("dynamodb", {}).get("SequenceNumber", "")), partial(decode, r)) for r in records
    )
    return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in failed]}


def run_scheduled_task(payload: dict[str, Any]) -> dict[str, str]:
    act_as(SYSTEM)
    if payload.get("task") == CALENDAR_RENEW_WATCH_TASK:  # a Google Calendar watch channel's renewal
        return registry.calendar_sync().renew_watch(payload)
    return registry.scheduled_tasks().run(payload)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=25, starting_position="TRIM_HORIZON")
def dispatch_table_changes(event: Any) -> dict[str, Any]:
    return dispatch_records(event.to_dict().get("Records", []))


@bp.lambda_function(name="scheduled_task")
def scheduled_task(event: dict[str, Any], context: Any) -> dict[str, str]:
    return run_scheduled_task(event)


@bp.on_sns_message(topic=MAIL_EVENTS_TOPIC)
def handle_mail_events(event: Any) -> None:
    act_as(SYSTEM)
    registry.mail_events().record(json.loads(event.message))
