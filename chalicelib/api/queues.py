"""The refund worker: SQS messages, one refund request each, with partial batch failures."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import config
from chalicelib.actor import SYSTEM, act_as
from chalicelib.api.lazy import registry

if TYPE_CHECKING:  # Powertools' batch utilities load on the worker's first batch, not in every function
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

bp = Blueprint(__name__)
REFUND_QUEUE = os.environ.get("REFUND_QUEUE_NAME", "scheduling-dev-refunds")


def process_refund_record(record: SQSRecord) -> str:
    """One message: raises to leave it on the queue (retried with backoff, then the DLQ)."""
    message = json.loads(record.body)
    attempts = int(record.attributes.approximate_receive_count or 1)
    return registry.refunds().process(
        message["tenantId"],
        message["appointmentId"],
        message["requestId"],
        final_attempt=attempts >= config.refund_max_receives(),
    )


def process_refund_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    act_as(SYSTEM)
    # A batch whose every record failed is still a partial batch response (each item retried,
    # counted against the redrive policy), not an invocation error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=process_refund_record, processor=processor, context=context
    )
    return dict(response)


@bp.on_sqs_message(queue=REFUND_QUEUE, batch_size=10)
def refund_worker(event: Any) -> dict[str, Any]:
    return process_refund_batch(event.to_dict(), event.context)
