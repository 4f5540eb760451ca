"""The effect ledger: each side effect of an appointment version runs once per success.

`claim` takes a lease with a conditional put; a redelivered stream record or a retried
schedule finds the effect `done` (skip) or leased by a live attempt: then it fails with
EffectInProgressError so that its caller is retried, instead of counting an effect that may
never have happened as done. A crash after the effect but before `done` lets the lease lapse
and the effect run again: at least once, never twice for a normal redelivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.store import keys, leases
from chalicelib.store.leases import Claim
from chalicelib.store.models import EffectItem
from chalicelib.store.table import ensure_bound

LEASE = timedelta(seconds=45)  # longer than a Lambda run (30 s): an older claim belongs to a dead attempt
RETENTION = timedelta(days=60)


class EffectInProgressError(Exception):
    """Another attempt holds a live claim on this effect (it may have crashed): retry later."""


class EffectLedger:
    def _item(self, tenant_id: str, appointment_id: str, version: int, effect: str) -> EffectItem:
        return EffectItem(keys.appointment_pk(tenant_id, appointment_id), keys.effect_sk(version, effect))

    def claim(self, tenant_id: str, appointment_id: str, version: int, effect: str, now: datetime) -> bool:
        """True: ours to run. False: already done. EffectInProgressError: leased by a live attempt."""
        item = self._item(tenant_id, appointment_id, version, effect)
        item.expires_at = now + RETENTION
        outcome = leases.claim(item, now, LEASE)
        if outcome is Claim.BUSY:
            raise EffectInProgressError(f"{effect} of {appointment_id} v{version} is claimed by another attempt")
        return outcome is Claim.OURS

    def done(
        self,
        tenant_id: str,
        appointment_id: str,
        version: int,
        effect: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        item = self._item(tenant_id, appointment_id, version, effect)
        item.detail = detail or {}
        item.expires_at = now + RETENTION
        leases.finish(item)

    def release(self, tenant_id: str, appointment_id: str, version: int, effect: str) -> None:
        """Give the claim back after a failure so the retry can run at once."""
        leases.release(self._item(tenant_id, appointment_id, version, effect))

    def once(
        self,
        tenant_id: str,
        appointment_id: str,
        version: int,
        effect: str,
        clock: Callable[[], datetime],
        run: Callable[[], dict[str, Any] | None],
    ) -> bool:
        """Run `run` unless this effect of this version is done (False: skipped).

        A failure gives the claim back and propagates, so the caller's retry runs it again; a
        live claim of another attempt raises EffectInProgressError for the same reason."""
        if not self.claim(tenant_id, appointment_id, version, effect, clock()):
            return False
        try:
            detail = run()
        except Exception:
            self.release(tenant_id, appointment_id, version, effect)
            raise
        self.done(tenant_id, appointment_id, version, effect, clock(), detail)
        return True

    def details(self, tenant_id: str, appointment_id: str, effect_suffix: str) -> list[dict[str, Any]]:
        """`detail` of every done effect of the appointment whose name ends with `effect_suffix`."""
        ensure_bound()
        query = EffectItem.query(
            keys.appointment_pk(tenant_id, appointment_id), EffectItem.sk.startswith(keys.EFFECT_PREFIX)
        )
        return [dict(item.detail or {}) for item in query if item.status == "done" and item.sk.endswith(effect_suffix)]
