"""Who is calling: the platform operator, a tenant's admin (secret key) or the public (publishable key)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import config
from chalicelib.actor import act_as
from chalicelib.domain.credentials import KeyKind, hash_secret, parse_key, same_hash
from chalicelib.domain.errors import AuthenticationError, PermissionDeniedError
from chalicelib.domain.tenant import Tenant
from chalicelib.store.tenants import TenantRepository

BEARER = "bearer "


@dataclass(frozen=True)
class Caller:
    """An authenticated tenant caller; `key_id` names the key in the audit trail (never the key)."""

    tenant: Tenant
    key_id: str
    kind: KeyKind

    @property
    def tenant_id(self) -> str:
        return self.tenant.id


def bearer_token(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith(BEARER):
        return None
    return authorization[len(BEARER) :].strip() or None


class Authenticator:
    def __init__(self, tenants: TenantRepository) -> None:
        self._tenants = tenants

    def platform(self, authorization: str | None) -> None:
        """Only the operator's key passes; compared by digest in constant time."""
        token = bearer_token(authorization)
        expected_hash = config.platform_api_key_sha256()
        plain = config.platform_api_key()
        if expected_hash is None and plain is not None:
            expected_hash = hash_secret(plain)
        if token is None:
            raise AuthenticationError("Missing credentials.")
        if expected_hash is None or not same_hash(hash_secret(token), expected_hash.lower()):
            raise AuthenticationError("Invalid credentials.")
        act_as("platform")

    def tenant_key(self, presented: str | None, wanted: KeyKind) -> Caller:
        """Resolve a presented key to its tenant; a key of the wrong kind is refused."""
        if not presented:
            raise AuthenticationError("Missing credentials.")
        parsed = parse_key(presented)
        if parsed is None:
            raise AuthenticationError("Invalid credentials.")
        found = self._tenants.tenant_with_keys(parsed.tenant_id)
        if found is None:
            raise AuthenticationError("Invalid credentials.")
        tenant, records = found
        matched = None
        for record in records:
            if same_hash(record.hash, parsed.hash):
                matched = record
        if matched is None:
            raise AuthenticationError("Invalid credentials.")
        if matched.kind != wanted.value:
            raise PermissionDeniedError(
                "This key cannot be used here." if wanted is KeyKind.SECRET else "Use the publishable key here."
            )
        # The audit trail names the key by id (never the key); clients act through the publishable key.
        act_as(f"key:{matched.key_id}" if wanted is KeyKind.SECRET else "client")
        return Caller(tenant=tenant, key_id=matched.key_id, kind=wanted)

    def admin(self, authorization: str | None) -> Caller:
        return self.tenant_key(bearer_token(authorization), KeyKind.SECRET)

    def public(self, tenant_key: str | None) -> Caller:
        return self.tenant_key(tenant_key, KeyKind.PUBLISHABLE)
