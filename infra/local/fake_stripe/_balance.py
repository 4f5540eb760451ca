"""Balance transactions: what each charge and refund did to the account's balance, and the list.

Stripe writes one for every successful charge (`type: charge`, the amount, with the
application fee inside `fee`) and every refund (`type: refund`, a negative amount). This
fake models no processing fee: `fee` is the application fee alone, so a connected account's
`net` is what the platform did not take. `GET /v1/balance_transactions` pages newest first
with `limit`, `starting_after`, `ending_before`, `created[gte|gt|lte|lt]` and `type`,
as Stripe does.
"""

from __future__ import annotations

from typing import Any

from ._core import Core
from ._params import LEAF, Json, check, integer, invalid

_LIST = {
    "limit": LEAF,
    "starting_after": LEAF,
    "ending_before": LEAF,
    "type": LEAF,
    "source": LEAF,
    "payout": LEAF,
    "currency": LEAF,
    "created": {"gte": LEAF, "gt": LEAF, "lte": LEAF, "lt": LEAF},
    "expand": [LEAF],
}
_BOUNDS = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
DAY_SECONDS = 86400


def record(core: Core, account: str | None, kind: str, amount: int, currency: str, source: str, fee: int) -> str:
    """A new balance transaction for `source` (a charge or refund id); its id goes on the source."""
    txn = core.base("txn_", "balance_transaction", amount=amount, currency=currency, source=source, type=kind)
    del txn["livemode"]  # balance transactions carry none
    details = [{"type": "application_fee", "amount": fee, "currency": currency, "description": "application fee"}]
    txn.update(
        available_on=txn["created"] + 2 * DAY_SECONDS,
        description=None,
        exchange_rate=None,
        fee=fee,
        fee_details=details if fee else [],
        net=amount - fee,
        reporting_category=kind,
        status="pending",
    )
    core.store(txn, account)
    return str(txn["id"])


def list_balance_transactions(core: Core, account: str | None, params: Json) -> Json:
    check(params, _LIST)
    limit = integer(params.get("limit") or "10", "limit", 1)
    if limit > 100:
        raise invalid("This value must be less than or equal to 100.", "limit")
    created = params.get("created")
    if created is not None and not isinstance(created, dict):
        created = {"gte": created, "lte": created}  # created=<timestamp>: exactly then
    bounds = [(_BOUNDS[op], integer(value, f"created[{op}]", 0)) for op, value in (created or {}).items()]
    kind = params.get("type") or None
    found = [
        obj
        for obj_id, obj in core.objects.items()
        if obj["object"] == "balance_transaction"
        and core.owner[obj_id] == account
        and (kind is None or obj["type"] == kind)
        and (not params.get("source") or obj["source"] == params["source"])
        and all(test(obj["created"], bound) for test, bound in bounds)
    ]
    # Newest first; a stable sort of the reversed insertion order keeps one second's objects newest first too.
    found = sorted(reversed(found), key=lambda obj: obj["created"], reverse=True)
    page = _page(core, found, params, limit)
    return {"object": "list", "data": page[0], "has_more": page[1], "url": "/v1/balance_transactions"}


def _page(core: Core, found: list[Json], params: Json, limit: int) -> tuple[list[Json], bool]:
    ids = [obj["id"] for obj in found]
    after, before = params.get("starting_after") or None, params.get("ending_before") or None
    if after is not None:
        start = _position(core, ids, after, "starting_after") + 1
        return found[start : start + limit], start + limit < len(found)
    if before is not None:
        end = _position(core, ids, before, "ending_before")
        return found[max(0, end - limit) : end], end - limit > 0
    return found[:limit], limit < len(found)


def _position(core: Core, ids: list[str], object_id: Any, param: str) -> int:
    if object_id not in ids:
        if core.objects.get(str(object_id), {}).get("object") != "balance_transaction":
            raise invalid(f"No such balance_transaction: '{object_id}'", param)
        return len(ids)  # exists but outside the filter: nothing after it in this list
    return ids.index(object_id)
