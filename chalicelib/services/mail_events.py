"""SES bounce and complaint notifications: the address is suppressed for the tenant that mailed it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.observability import logger
from chalicelib.store.suppressions import SuppressionRepository


class MailEvents:
    def __init__(self, suppressions: SuppressionRepository, clock: Callable[[], datetime]) -> None:
        self._suppressions = suppressions
        self._clock = clock

    def record(self, notification: dict[str, Any]) -> int:
        """Suppress the addresses a permanent bounce or a complaint names; returns how many."""
        kind = notification.get("eventType") or notification.get("notificationType")
        tags = (notification.get("mail") or {}).get("tags") or {}
        tenant_ids = tags.get("tenant") or []
        if not tenant_ids:
            logger.warning("mail event without a tenant tag", extra={"kind": str(kind)})
            return 0
        tenant_id = str(tenant_ids[0])
        addresses: list[str] = []
        if kind == "Bounce":
            bounce = notification.get("bounce") or {}
            if bounce.get("bounceType") != "Permanent":
                return 0
            addresses = [r["emailAddress"] for r in bounce.get("bouncedRecipients", []) if "emailAddress" in r]
        elif kind == "Complaint":
            complaint = notification.get("complaint") or {}
            addresses = [r["emailAddress"] for r in complaint.get("complainedRecipients", []) if "emailAddress" in r]
        for address in addresses:
            self._suppressions.suppress(tenant_id, address, str(kind).lower(), self._clock())
        return len(addresses)
