"""Addresses a tenant must not mail again (hard bounces and complaints reported by SES)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import keys
from chalicelib.store.appointments import email_hash
from chalicelib.store.models import SuppressionItem
from chalicelib.store.table import ensure_bound


class SuppressionRepository:
    def is_suppressed(self, tenant_id: str, email: str) -> bool:
        ensure_bound()
        try:
            SuppressionItem.get(keys.suppression_pk(tenant_id, email_hash(email)), keys.SUPPRESSED_SK)
        except DoesNotExist:
            return False
        return True

    def suppress(self, tenant_id: str, email: str, reason: str, now: datetime) -> None:
        ensure_bound()
        SuppressionItem(
            keys.suppression_pk(tenant_id, email_hash(email)),
            keys.SUPPRESSED_SK,
            reason=reason[:100],
            suppressed_at=now,
        ).save()
