from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.credentials import KeyKind, issue_key
from chalicelib.domain.tenant import Tenant
from chalicelib.store.tenants import TenantRepository


def test_tenant_round_trips(aws: str) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    tenant = Tenant(
        id="tnabc", name="A", slug="abc", timezone="UTC", currency="USD", email="a@b.co", created_at=now, updated_at=now
    )
    repo = TenantRepository()
    repo.create(tenant, [issue_key(KeyKind.SECRET, "tnabc")])
    got = repo.tenant_with_keys("tnabc")
    assert got is not None and got[0].slug == "abc" and len(got[1]) == 1
