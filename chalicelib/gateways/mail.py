"""Sending mail: SES v2 raw messages in AWS, the same plus an .eml copy in local mode, a list in tests."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from botocore.exceptions import ClientError

from chalicelib.gateways.aws import client


class MailRejectedError(Exception):
    """SES refused this message for good (bad address, unverified sender): retrying will not help."""


class MailThrottledError(Exception):
    """SES is throttling or briefly unavailable: retry later."""


@dataclass(frozen=True)
class OutgoingMail:
    sender: str
    recipient: str
    raw: bytes
    tags: dict[str, str] = field(default_factory=dict)


class MailGateway(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Send; returns the provider's message id."""
        ...


_PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "BadRequestException",
    "NotFoundException",
}
_TRANSIENT = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "ServiceUnavailable",
    "InternalFailure",
}


class SesMailGateway:
    def __init__(self, configuration_set: str | None = None, outbox: Path | None = None) -> None:
        self._configuration_set = configuration_set
        self._outbox = outbox

    def send(self, mail: OutgoingMail) -> str:
        request: dict[str, object] = {
            "FromEmailAddress": mail.sender,
            "Destination": {"ToAddresses": [mail.recipient]},
            "Content": {"Raw": {"Data": mail.raw}},
            "EmailTags": [{"Name": k, "Value": v} for k, v in sorted(mail.tags.items())],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            message_id: str = client("sesv2").send_email(**request)["MessageId"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _PERMANENT:
                raise MailRejectedError(code) from exc
            if code in _TRANSIENT:
                raise MailThrottledError(code) from exc
            raise
        if self._outbox is not None:
            self._outbox.mkdir(parents=True, exist_ok=True)
            (self._outbox / f"{int(time.time() * 1000)}-{message_id}.eml").write_bytes(mail.raw)
        return message_id


@dataclass
class InMemoryMailGateway:
    """The fake: keeps what was sent; `fail_next` queues errors to raise before sending."""

    sent: list[OutgoingMail] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)

    def send(self, mail: OutgoingMail) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append(mail)
        return f"fake-{len(self.sent)}"


def outbox_dir() -> Path | None:
    """Local mode keeps a copy of every message under .local/outbox."""
    path = os.environ.get("LOCAL_OUTBOX_DIR")
    return Path(path) if path else None
