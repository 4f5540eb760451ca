"""The audit trail: written by the stream dispatcher, read by tenant admins."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import to_iso
from chalicelib.domain.errors import ValidationError
from chalicelib.store import keys
from chalicelib.store.models import AuditItem
from chalicelib.store.table import ensure_bound, is_condition_failure

RETENTION_DAYS = 400


def _entry(item: AuditItem, tenant_id: str) -> AuditEntry:
    return AuditEntry(
        item.entry_id,
        tenant_id,
        item.at,
        item.actor or "system",
        item.action,
        item.entity_type,
        item.entity_id,
        item.before,
        item.after,
    )


class AuditRepository:
    def record(self, entry: AuditEntry) -> None:
        """Idempotent: the entry id derives from the stream record, so a redelivery writes nothing new."""
        ensure_bound()
        sort_key = f"{entry.at}#{_sortable(entry.sequence)}#{entry.id}"
        item = AuditItem(
            keys.audit_pk(entry.tenant_id),
            sort_key,
            gsi1pk=keys.entity_audit_gsi_pk(entry.tenant_id, entry.entity_id),
            gsi1sk=sort_key,
            entry_id=entry.id,
            at=entry.at,
            actor=entry.actor,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            action=entry.action,
            before=entry.before,
            after=entry.after,
        )
        try:
            item.save(condition=AuditItem.pk.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise

    def page(
        self, tenant_id: str, start: datetime, end: datetime, entity_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first; the cursor is DynamoDB's own position, checked to belong to this tenant and query."""
        ensure_bound()
        low, high = f"{to_iso(start)}#", f"{to_iso(end)}#~"
        partition = keys.entity_audit_gsi_pk(tenant_id, entity_id) if entity_id else keys.audit_pk(tenant_id)
        last_key = _decode_cursor(cursor, partition, bool(entity_id))
        results: Any
        if entity_id:
            results = AuditItem.gsi1.query(
                partition,
                AuditItem.gsi1sk.between(low, high),
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=last_key,
            )
        else:
            results = AuditItem.query(
                partition,
                AuditItem.sk.between(low, high),
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=last_key,
            )
        entries = [_entry(item, tenant_id) for item in results if isinstance(item, AuditItem)]
        return entries, _encode_cursor(results.last_evaluated_key)


SEQUENCE_DIGITS = 40  # DynamoDB stream sequence numbers are decimal strings of up to 40 digits


def _sortable(sequence: str) -> str:
    """Zero-padded so that sequence numbers of different lengths sort as numbers."""
    return sequence.zfill(SEQUENCE_DIGITS) if sequence.isascii() and sequence.isdecimal() else "0" * SEQUENCE_DIGITS


def _encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, partition: str, by_entity: bool) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        owner = data["gsi1pk" if by_entity else "pk"]["S"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}}) from exc
    if owner != partition or not isinstance(data, dict):
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}})
    return dict(data)
