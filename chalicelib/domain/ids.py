"""Opaque, unguessable identifiers. Prefixes make logs and support tickets readable."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case: no `_`, no look-alikes


def new_id(prefix: str, length: int = 20) -> str:
    """`prefix` + random base32 characters (20 chars = 100 bits)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def is_plausible_id(value: str, prefix: str) -> bool:
    """Cheap shape check so junk never reaches a key."""
    body = value[len(prefix) :]
    return value.startswith(prefix) and 0 < len(body) <= 40 and all(c in _ALPHABET for c in body)
