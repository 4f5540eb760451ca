"""Text-message reminders through Amazon SNS; numbers must be E.164 and opt-outs are honoured."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from botocore.exceptions import ClientError

from chalicelib.gateways.aws import client

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_SMS_CHARS = 300


class SmsRejectedError(Exception):
    """The number is invalid or opted out: never retried."""


def normalise_e164(phone: str) -> str | None:
    """'+1 (212) 555-0100' -> '+12125550100'; None when it cannot be an E.164 number."""
    compact = re.sub(r"[ ()./-]", "", phone)
    return compact if E164.match(compact) else None


class SmsGateway(Protocol):
    def send(self, phone: str, text: str, sender_id: str | None = None) -> str: ...


class SnsSmsGateway:
    def send(self, phone: str, text: str, sender_id: str | None = None) -> str:
        number = normalise_e164(phone)
        if number is None:
            raise SmsRejectedError("not an E.164 number")
        sns = client("sns")
        if sns.check_if_phone_number_is_opted_out(phoneNumber=number).get("isOptedOut"):
            raise SmsRejectedError("opted out")
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id[:11]}
        try:
            message_id: str = sns.publish(
                PhoneNumber=number, Message=text[:MAX_SMS_CHARS], MessageAttributes=attributes
            )["MessageId"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"InvalidParameter", "OptedOut"}:
                raise SmsRejectedError(exc.response["Error"]["Code"]) from exc
            raise
        return message_id


@dataclass
class InMemorySmsGateway:
    sent: list[tuple[str, str]] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)

    def send(self, phone: str, text: str, sender_id: str | None = None) -> str:
        number = normalise_e164(phone)
        if number is None or number in self.opted_out:
            raise SmsRejectedError("rejected")
        self.sent.append((number, text[:MAX_SMS_CHARS]))
        return f"sms-{len(self.sent)}"
