"""Sending work to SQS queues by name (the URL is looked up once per process)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.gateways.aws import client


class QueueGateway(Protocol):
    def send(self, body: dict[str, Any], deduplication_id: str | None = None) -> None: ...


class SqsQueue:
    def __init__(self, name: str) -> None:
        self._name = name
        self._url: str | None = None

    def send(self, body: dict[str, Any], deduplication_id: str | None = None) -> None:
        sqs = client("sqs")
        if self._url is None:
            self._url = str(sqs.get_queue_url(QueueName=self._name)["QueueUrl"])
        sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(body, sort_keys=True))


@dataclass
class InMemoryQueue:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, body: dict[str, Any], deduplication_id: str | None = None) -> None:
        self.sent.append(body)
