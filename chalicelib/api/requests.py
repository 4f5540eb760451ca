"""Paging an in-memory list with `?limit=` and an opaque `cursor`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.domain.errors import ValidationError

if TYPE_CHECKING:
    from chalicelib.api.model_types import Page

T = TypeVar("T")


def page(query: Page, items: Sequence[T], sort_key: Callable[[T], str]) -> dict[str, Any]:
    """One page of `items` in `sort_key` order, as the fields of a page model."""
    after = decode_cursor(query.cursor)
    ordered = sorted(items, key=sort_key)
    remaining = [item for item in ordered if after is None or sort_key(item) > after]
    chosen = remaining[: query.limit]
    next_cursor = encode_cursor(sort_key(chosen[-1])) if len(remaining) > query.limit else None
    return {"items": chosen, "next_cursor": next_cursor}


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": position}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}}) from exc
    if not isinstance(position, str):
        raise ValidationError("cursor is not one this API issued.", {"fields": {"cursor": "invalid"}})
    return position
