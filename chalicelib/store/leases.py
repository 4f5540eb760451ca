"""Leased claims: "run this once" records shared by the effect ledger and Stripe's events.

A claim is a conditional put that succeeds when no record exists or the previous claim's
lease has lapsed (its holder died). A record marked done means the work happened.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.store.models import EffectItem, StripeEventItem
from chalicelib.store.table import ensure_bound, is_condition_failure

LeasedItem = EffectItem | StripeEventItem


class Claim(enum.Enum):
    OURS = "ours"  # run the work now
    DONE = "done"  # it happened already
    BUSY = "busy"  # a live attempt holds it (it may yet crash): try again later


def claim(item: LeasedItem, now: datetime, lease: timedelta) -> Claim:
    """Put `item` as a claim with a lease from `now`; tell what stood in the way if it fails."""
    ensure_bound()
    model = type(item)
    item.status = "claimed"
    item.lease_until = int((now + lease).timestamp())
    condition = model.pk.does_not_exist() | ((model.status == "claimed") & (model.lease_until < int(now.timestamp())))
    try:
        item.save(condition=condition)
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        try:
            existing = model.get(item.pk, item.sk, consistent_read=True)
        except DoesNotExist:
            return Claim.BUSY  # released meanwhile: in progress as far as this attempt knows
        return Claim.DONE if existing.status == "done" else Claim.BUSY
    return Claim.OURS


def finish(item: LeasedItem) -> None:
    ensure_bound()
    item.status = "done"
    item.lease_until = 0
    item.save()


def release(item: LeasedItem) -> None:
    """Give a claim back after a failure so that the retry can run at once."""
    ensure_bound()
    try:
        item.delete(condition=type(item).status == "claimed")
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
