"""Decoding DynamoDB stream records of the single table into what the dispatcher reasons about."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from chalicelib.domain.appointments import Appointment
from chalicelib.store import keys
from chalicelib.store.appointments import to_appointment
from chalicelib.store.models import AppointmentItem, TableItem

_deserializer = TypeDeserializer()
# Item types whose changes the audit trail records (locks, seats, tokens, effects... are mechanics).
AUDITED_TYPES = {
    "Tenant": "tenant",
    "ApiKey": "api_key",
    "Service": "service",
    "Provider": "provider",
    "WeeklyRules": "weekly_rules",
    "DateOverride": "date_override",
    "Appointment": "appointment",
    "RefundRequest": "refund_request",
}
# Most specific first: an override also names its provider, a key its tenant.
_ENTITY_ID_FIELDS = ("request_id", "appointment_id", "service_id", "override_id", "provider_id", "key_id", "tenant_id")


@dataclass(frozen=True)
class TableChange:
    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    sequence: str
    tenant_id: str | None
    item_type: str | None
    old: dict[str, Any] | None  # plain attribute values
    new: dict[str, Any] | None
    old_appointment: Appointment | None = None
    new_appointment: Appointment | None = None
    by_ttl: bool = False  # removed by DynamoDB's TTL sweeper, not by us
    changed_at: datetime | None = None  # the stream's approximate time of the change

    @property
    def image(self) -> dict[str, Any]:
        return self.new or self.old or {}

    @property
    def entity_id(self) -> str:
        for name in _ENTITY_ID_FIELDS:
            if name in self.image:
                return str(self.image[name])
        return str(self.image.get("sk", ""))


def _plain(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    return {name: _json_ready(_deserializer.deserialize(value)) for name, value in image.items()}


def _json_ready(value: Any) -> Any:
    """DynamoDB numbers arrive as Decimal and sets as set: make them plain JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_json_ready(v) for v in value)
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:  # JSONAttribute values are stored as JSON text
            return json.loads(value)
        except ValueError:
            return value
    return value


def _appointment(image: dict[str, Any] | None) -> Appointment | None:
    if not image:
        return None
    item = TableItem.from_raw_data(image)
    return to_appointment(item) if isinstance(item, AppointmentItem) else None


def decode(record: dict[str, Any]) -> TableChange:
    """One Lambda stream record (the `Records[i]` dict) as a TableChange."""
    data = record.get("dynamodb", {})
    old_raw, new_raw = data.get("OldImage"), data.get("NewImage")
    old, new = _plain(old_raw), _plain(new_raw)
    image = new or old or {}
    pk = str(image.get("pk", ""))
    identity = record.get("userIdentity") or {}
    return TableChange(
        event_id=str(record.get("eventID", data.get("SequenceNumber", ""))),
        event_name=str(record.get("eventName", "")),
        sequence=str(data.get("SequenceNumber", "")),
        tenant_id=keys.tenant_of(pk),
        item_type=str(image["type"]) if "type" in image else None,
        old=old,
        new=new,
        old_appointment=_appointment(old_raw),
        new_appointment=_appointment(new_raw),
        by_ttl=identity.get("principalId") == "dynamodb.amazonaws.com",
        changed_at=_approximate_time(data.get("ApproximateCreationDateTime")),
    )


def _approximate_time(value: Any) -> datetime | None:
    """Lambda hands epoch seconds; boto3's stream reader hands a datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, (int, float, Decimal)):
        return datetime.fromtimestamp(float(value), UTC)
    return None
