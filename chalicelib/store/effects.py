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

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.store import keys
from chalicelib.store.models import EffectItem
from chalicelib.store.table import ensure_bound, is_condition_failure

LEASE = timedelta(seconds=45)  # longer than a Lambda run (30 s): an older claim belongs to a dead attempt
RETENTION = timedelta(days=60)


class EffectInProgressError(Exception):
    """Another attempt holds a live claim on this effect (it may have crashed): retry later."""


class EffectLedger:
    def claim(self, tenant_id: str, appointment_id: str, version: int, effect: str, now: datetime) -> bool:
        """True: ours to run. False: already done. EffectInProgressError: leased by a live attempt."""
        ensure_bound()
        item = EffectItem(
            keys.appointment_pk(tenant_id, appointment_id),
            keys.effect_sk(version, effect),
            status="claimed",
            lease_until=int((now + LEASE).timestamp()),
            expires_at=now + RETENTION,
        )
        condition = EffectItem.pk.does_not_exist() | (
            (EffectItem.status == "claimed") & (EffectItem.lease_until < int(now.timestamp()))
        )
        try:
            item.save(condition=condition)
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
            if self._is_done(item.pk, item.sk):
                return False
            raise EffectInProgressError(
                f"{effect} of {appointment_id} v{version} is claimed by another attempt"
            ) from exc
        return True

    def _is_done(self, pk: str, sk: str) -> bool:
        try:
            return EffectItem.get(pk, sk, consistent_read=True).status == "done"
        except DoesNotExist:
            return False  # released meanwhile: in progress as far as this attempt knows

    def done(
        self,
        tenant_id: str,
        appointment_id: str,
        version: int,
        effect: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> None:
        ensure_bound()
        EffectItem(
            keys.appointment_pk(tenant_id, appointment_id),
            keys.effect_sk(version, effect),
            status="done",
            lease_until=0,
            detail=detail or {},
            expires_at=now + RETENTION,
        ).save()

    def release(self, tenant_id: str, appointment_id: str, version: int, effect: str) -> None:
        """Give the claim back after a failure so the retry can run at once."""
        ensure_bound()
        try:
            EffectItem(keys.appointment_pk(tenant_id, appointment_id), keys.effect_sk(version, effect)).delete(
                condition=EffectItem.status == "claimed"
            )
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

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
