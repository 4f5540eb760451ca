"""Reading what a request carries: its JSON body, credentials and query parameters."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chalice import Blueprint

from chalicelib.api.parsing import parse_json_object
from chalicelib.domain.errors import ValidationError
from chalicelib.services import registry
from chalicelib.services.auth import Caller

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def json_body(bp: Blueprint) -> dict[str, Any]:
    raw = bp.current_request.raw_body
    return parse_json_object(raw.encode("utf-8") if isinstance(raw, str) else raw)


def header(bp: Blueprint, name: str) -> str | None:
    value: str | None = bp.current_request.headers.get(name)
    return value


def query(bp: Blueprint, name: str) -> str | None:
    params = bp.current_request.query_params
    value: str | None = params.get(name) if params else None
    return value if value else None


def admin_caller(bp: Blueprint) -> Caller:
    """The tenant behind `Authorization: Bearer sk_...` (401/403 otherwise)."""
    return registry.authenticator().admin(header(bp, "authorization"))


def public_caller(bp: Blueprint) -> Caller:
    """The tenant behind `X-Tenant-Key: pk_...`."""
    return registry.authenticator().public(header(bp, "x-tenant-key"))


def platform_caller(bp: Blueprint) -> None:
    registry.authenticator().platform(header(bp, "authorization"))


def page_limit(bp: Blueprint) -> int:
    """`?limit=`: default 50, 1 to 200."""
    limit_text = query(bp, "limit")
    if limit_text is None:
        return DEFAULT_LIMIT
    # isdigit() alone admits '²' (int() then raises) and other scripts' digits.
    if not (limit_text.isascii() and limit_text.isdecimal()) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise ValidationError("limit must be an integer from 1 to 200.", {"fields": {"limit": "out of range"}})
    return int(limit_text)


def page(
    bp: Blueprint, items: Sequence[T], sort_key: Callable[[T], str], render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of an in-memory list: `?limit=` (default 50, max 200) and an opaque `cursor`."""
    limit = page_limit(bp)
    after = decode_cursor(query(bp, "cursor"))
    ordered = sorted(items, key=sort_key)
    remaining = [item for item in ordered if after is None or sort_key(item) > after]
    chosen = remaining[:limit]
    next_cursor = encode_cursor(sort_key(chosen[-1])) if len(remaining) > limit else None
    return {"items": [render(item) for item in chosen], "nextCursor": next_cursor}


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
