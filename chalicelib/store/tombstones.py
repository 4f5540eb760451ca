"""Deletion records: written in the same transaction as a delete, they tell the audit trail
who deleted what (a stream REMOVE image only knows who last wrote the item)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import to_iso
from chalicelib.store import keys
from chalicelib.store.models import TombstoneItem

RETENTION = timedelta(days=1)


def tombstone(
    tenant_id: str, entity_type: str, entity_id: str, now: datetime, summary: dict[str, Any] | None = None
) -> TombstoneItem:
    return TombstoneItem(
        keys.tombstone_pk(tenant_id),
        f"{to_iso(now)}#{entity_type}#{entity_id}",
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary or {},
        expires_at=now + RETENTION,
    )
