"""API keys: generation, parsing and hashing.

A key reads `sk_<tenantId>_<64 hex>` (secret) or `pk_<tenantId>_<64 hex>` (publishable).
The tenant id inside the key lets us find the key's record inside the tenant's own
partition, so no global lookup table of keys exists. Only the SHA-256 of a key is
stored; comparisons are constant time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from chalicelib.domain.ids import is_plausible_id
from chalicelib.domain.tenant import TENANT_ID_PREFIX

KEY_SECRET_BYTES = 32


class KeyKind(enum.Enum):
    SECRET = "sk"  # noqa: S105 (a key prefix, not a secret)
    PUBLISHABLE = "pk"


@dataclass(frozen=True)
class IssuedKey:
    """A freshly generated key: `plaintext` is shown once and never stored."""

    kind: KeyKind
    tenant_id: str
    key_id: str
    plaintext: str
    hash: str


@dataclass(frozen=True)
class ParsedKey:
    kind: KeyKind
    tenant_id: str
    hash: str


def hash_secret(value: str) -> str:
    """SHA-256 hex digest: the only form in which keys and tokens are stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two secrets (compares their digests)."""
    return hmac.compare_digest(hash_secret(given), hash_secret(expected))


def same_hash(left: str, right: str) -> bool:
    """Constant-time equality of two stored digests."""
    return hmac.compare_digest(left.encode("ascii"), right.encode("ascii"))


def issue_key(kind: KeyKind, tenant_id: str) -> IssuedKey:
    plaintext = f"{kind.value}_{tenant_id}_{secrets.token_hex(KEY_SECRET_BYTES)}"
    digest = hash_secret(plaintext)
    return IssuedKey(kind=kind, tenant_id=tenant_id, key_id=f"key_{digest[:12]}", plaintext=plaintext, hash=digest)


def parse_key(plaintext: str) -> ParsedKey | None:
    """The kind and tenant a presented key claims, or None when it cannot be a key of ours."""
    if len(plaintext) > 200:
        return None
    prefix, _, rest = plaintext.partition("_")
    try:
        kind = KeyKind(prefix)
    except ValueError:
        return None
    tenant_id, _, secret = rest.rpartition("_")
    # The tenant id becomes part of a partition key: anything but one of our ids stops here.
    if not is_plausible_id(tenant_id, TENANT_ID_PREFIX) or len(secret) != KEY_SECRET_BYTES * 2:
        return None
    if any(c not in "0123456789abcdef" for c in secret):
        return None
    return ParsedKey(kind=kind, tenant_id=tenant_id, hash=hash_secret(plaintext))
