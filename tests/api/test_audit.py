"""GET /v1/admin/audit: who changed what, written from the table's stream.

Every test makes its changes through the API, then runs moto's real stream through the
dispatcher (`dispatch_records`, via the local StreamPump) before reading the trail. Entries
carry the stream's own time (the emulator's wall clock, not the frozen test clock), so the
trail is read over a window around today.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api.events import dispatch_records, run_scheduled_task
from chalicelib.domain.clock import from_iso
from chalicelib.domain.credentials import hash_secret
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, TUESDAY, Shop, freeze, local
from tests.api.conftest import Api

TODAY = datetime.now(UTC).date()
WINDOW = f"from={TODAY - timedelta(days=1)}&to={TODAY + timedelta(days=1)}"


def key_id(secret_key: str) -> str:
    return f"key_{hash_secret(secret_key)[:12]}"


class Trail:
    """Runs the stream into the dispatcher, then reads the tenant's trail."""

    def __init__(self, api: Api, table: str) -> None:
        self.api = api
        self.pump = StreamPump(table, dispatch_records)

    def read(self, key: str, query: str = "") -> tuple[int, Any]:
        self.pump.run_once()
        return self.api.call("GET", f"/v1/admin/audit?{WINDOW}{'&' + query if query else ''}", key=key)

    def entries(self, key: str, query: str = "") -> list[dict[str, Any]]:
        status, body = self.read(key, query)
        assert status == 200, body
        return list(body["items"])

    def of(self, key: str, entity_id: str) -> list[dict[str, Any]]:
        return self.entries(key, f"entityId={entity_id}")


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    registry.use("mail_gateway", InMemoryMailGateway())
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def trail(api: Api, aws: str) -> Trail:
    return Trail(api, aws)


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=5000)


@pytest.fixture
def dana(shop: Shop, massage: dict[str, Any]) -> dict[str, Any]:
    return shop.provider([massage], name="Dana")


def _one(entries: list[dict[str, Any]], action: str, entity_type: str) -> dict[str, Any]:
    found = [e for e in entries if e["action"] == action and e["entityType"] == entity_type]
    assert len(found) == 1, [(e["action"], e["entityType"]) for e in entries]
    return found[0]


# --- actors ----------------------------------------------------------------------------------


def test_opening_a_tenant_is_recorded_as_the_platform_and_never_shows_a_key_hash(shop: Shop, trail: Trail) -> None:
    status, body = trail.read(shop.key)

    assert status == 200, body
    entries = body["items"]
    tenant_id = shop.tenant["tenant"]["id"]
    created = _one(entries, "created", "tenant")
    assert created["actor"] == "platform"
    assert created["entityId"] == tenant_id
    assert created["before"] is None and created["after"]["slug"] == "acme"
    keys = [e for e in entries if e["entityType"] == "api_key"]
    assert sorted(e["after"]["kind"] for e in keys) == ["pk", "sk"]
    assert {e["actor"] for e in keys} == {"platform"}
    assert key_id(shop.key) in {e["entityId"] for e in keys}
    text = json.dumps(body)
    assert "key_hash" not in text
    assert hash_secret(shop.key) not in text and hash_secret(shop.public_key) not in text


def test_catalog_changes_name_the_secret_key_that_made_them(
    shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    entries = trail.entries(shop.key)

    me = f"key:{key_id(shop.key)}"
    service = _one(entries, "created", "service")
    provider = _one(entries, "created", "provider")
    rules = _one(entries, "created", "weekly_rules")
    assert (service["actor"], service["entityId"], service["after"]["name"]) == (me, massage["id"], "Massage")
    assert (provider["actor"], provider["entityId"]) == (me, dana["id"])
    assert (rules["actor"], rules["entityId"]) == (me, dana["id"])


def test_a_public_booking_is_recorded_as_the_client(shop: Shop, massage: dict, dana: dict, trail: Trail) -> None:
    appointment = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]

    (booked,) = trail.of(shop.key, appointment["id"])

    assert (booked["actor"], booked["action"], booked["entityType"]) == ("client", "booked", "appointment")
    assert booked["before"] is None
    assert booked["after"]["status"] == "confirmed"
    assert booked["after"]["start"] == local(MONDAY, "10:00")


def test_an_appointments_trail_reads_newest_first_with_only_what_each_change_changed(
    shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    # GIVEN a booking the client moves, then the admin cancels, all within the same second
    made = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id = made["appointment"]["id"]
    status, moved = shop.public(
        "POST", appointment_id, "reschedule", {"token": made["manage"]["token"], "start": local(TUESDAY, "11:00")}
    )
    assert status == 200, moved
    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"reason": "Closed"})
    assert status == 200, body

    # WHEN the appointment's trail is read
    cancelled, rescheduled, booked = trail.of(shop.key, appointment_id)

    # THEN it reads newest first, each entry naming its actor and only the fields it changed
    assert (cancelled["action"], cancelled["actor"]) == ("cancelled", f"key:{key_id(shop.key)}")
    assert cancelled["before"] == {"cancel_reason": None, "status": "confirmed"}
    assert cancelled["after"] == {"cancel_reason": "Closed", "status": "cancelled"}
    assert (rescheduled["action"], rescheduled["actor"]) == ("rescheduled", "client")
    assert rescheduled["before"] == {"end": local(MONDAY, "11:00"), "start": local(MONDAY, "10:00")}
    assert rescheduled["after"] == {"end": local(TUESDAY, "12:00"), "start": local(TUESDAY, "11:00")}
    assert booked["action"] == "booked"


def test_a_cancellation_through_the_clients_link_is_recorded_as_the_client(
    shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    made = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id = made["appointment"]["id"]
    status, body = shop.public("POST", appointment_id, "cancel", {"token": made["manage"]["token"]})
    assert status == 200, body

    latest = trail.of(shop.key, appointment_id)[0]

    assert (latest["action"], latest["actor"]) == ("cancelled", "client")


def test_an_expired_hold_is_recorded_as_the_system(shop: Shop, trail: Trail) -> None:
    peel = shop.service(name="Peel", durationMinutes=60, slotIntervalMinutes=60, priceCents=9000, depositCents=2000)
    shop.provider([peel], name="Dana")
    hold = shop.booked(peel, local(MONDAY, "10:00"))["appointment"]
    freeze(from_iso(hold["holdUntil"]) + timedelta(seconds=1))

    outcome = run_scheduled_task(
        {"task": "expire_hold", "tenantId": shop.tenant["tenant"]["id"], "appointmentId": hold["id"], "version": 1}
    )

    assert outcome == {"outcome": "expired"}
    expired, held = trail.of(shop.key, hold["id"])
    assert (expired["action"], expired["actor"]) == ("expired", "system")
    assert (held["action"], held["actor"]) == ("held", "client")
    assert expired["after"]["status"] == "expired"


# --- what changed --------------------------------------------------------------------------------


def test_a_settings_patch_records_only_the_settings_that_changed(shop: Shop, trail: Trail) -> None:
    shop.settings(smsEnabled=True, name="Acme Spa")

    updated = trail.of(shop.key, shop.tenant["tenant"]["id"])[0]  # newest first

    assert (updated["action"], updated["actor"]) == ("updated", f"key:{key_id(shop.key)}")
    assert updated["before"] == {"name": "Acme", "settings": {"smsEnabled": False}}
    assert updated["after"] == {"name": "Acme Spa", "settings": {"smsEnabled": True}}


def test_a_service_edit_records_only_the_fields_it_changed(shop: Shop, massage: dict, trail: Trail) -> None:
    status, body = shop.api.call("PATCH", f"/v1/admin/services/{massage['id']}", {"priceCents": 6500}, key=shop.key)
    assert status == 200, body

    updated, _created = trail.of(shop.key, massage["id"])

    assert updated["action"] == "updated"
    assert updated["before"] == {"price_cents": 5000}
    assert updated["after"] == {"price_cents": 6500}


# --- deletions -----------------------------------------------------------------------------------


def test_deleting_a_service_a_provider_and_an_override_is_recorded_as_deleted_by_the_key(
    shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    api, key = shop.api, shop.key
    status, override = api.call(
        "POST", f"/v1/admin/providers/{dana['id']}/overrides", {"date": "2027-03-20", "intervals": []}, key=key
    )
    assert status == 201, override
    assert api.call("DELETE", f"/v1/admin/providers/{dana['id']}/overrides/{override['id']}", key=key)[0] == 204
    assert api.call("DELETE", f"/v1/admin/services/{massage['id']}", key=key)[0] == 204
    assert api.call("DELETE", f"/v1/admin/providers/{dana['id']}", key=key)[0] == 204

    entries = trail.entries(key)

    me = f"key:{key_id(key)}"
    deleted = {(e["entityType"], e["entityId"]): e for e in entries if e["action"] == "deleted"}
    assert set(deleted) == {("date_override", override["id"]), ("service", massage["id"]), ("provider", dana["id"])}
    assert {e["actor"] for e in deleted.values()} == {me}
    assert {e["after"] for e in deleted.values()} == {None}
    assert deleted[("service", massage["id"])]["before"] == {"name": "Massage"}
    assert deleted[("date_override", override["id"])]["before"] == {"providerId": dana["id"], "date": "2027-03-20"}


def test_an_overrides_trail_under_its_own_id_holds_its_creation_and_its_deletion(
    shop: Shop, dana: dict, trail: Trail
) -> None:
    api, key = shop.api, shop.key
    status, override = api.call(
        "POST", f"/v1/admin/providers/{dana['id']}/overrides", {"date": "2027-03-20", "intervals": []}, key=key
    )
    assert status == 201, override
    assert api.call("DELETE", f"/v1/admin/providers/{dana['id']}/overrides/{override['id']}", key=key)[0] == 204

    entries = trail.of(key, override["id"])

    assert [(e["action"], e["entityType"]) for e in entries] == [
        ("deleted", "date_override"),
        ("created", "date_override"),
    ]


def test_rotating_the_secret_key_records_the_old_key_deleted_and_the_new_one_created(shop: Shop, trail: Trail) -> None:
    status, rotated = shop.api.call("POST", "/v1/admin/keys/rotate", key=shop.key)
    assert status == 201, rotated
    new_key = rotated["secretKey"]

    entries = trail.entries(new_key)

    old_actor = f"key:{key_id(shop.key)}"
    revoked = [e for e in entries if e["action"] == "deleted" and e["entityType"] == "api_key"]
    issued = [e for e in entries if e["action"] == "created" and e["entityId"] == key_id(new_key)]
    assert [(e["entityId"], e["actor"]) for e in revoked] == [(key_id(shop.key), old_actor)]
    assert [(e["actor"], e["after"]["kind"]) for e in issued] == [(old_actor, "sk")]
    assert "key_hash" not in json.dumps(entries)


# --- redelivery ---------------------------------------------------------------------------------


def test_a_redelivered_stream_writes_no_entry_twice(
    api: Api, aws: str, shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    shop.booked(massage, local(MONDAY, "10:00"))
    first = trail.entries(shop.key)

    StreamPump(aws, dispatch_records).run_once()  # a second reader from TRIM_HORIZON
    again = trail.entries(shop.key)

    assert [e["id"] for e in again] == [e["id"] for e in first]


# --- paging, filtering, isolation -----------------------------------------------------------------


def test_paging_walks_the_whole_trail_once_newest_first(shop: Shop, massage: dict, dana: dict, trail: Trail) -> None:
    everything = trail.entries(shop.key)
    assert len(everything) >= 6

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, body = trail.read(shop.key, query)
        assert status == 200, body
        assert len(body["items"]) <= 2
        seen.extend(body["items"])
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break

    assert [e["id"] for e in seen] == [e["id"] for e in everything]
    assert pages >= len(everything) // 2
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)


def test_another_tenants_admin_sees_none_of_the_entries(
    shop: Shop, massage: dict, other_tenant: dict, trail: Trail
) -> None:
    theirs = trail.entries(other_tenant["secretKey"])
    filtered = trail.of(other_tenant["secretKey"], massage["id"])

    assert filtered == []
    assert theirs
    assert {e["entityId"] for e in theirs} & {massage["id"], shop.tenant["tenant"]["id"], key_id(shop.key)} == set()
    assert all(e["actor"] in ("platform", f"key:{key_id(other_tenant['secretKey'])}") for e in theirs)


def test_a_cursor_issued_to_one_tenant_is_400_for_another(
    shop: Shop, massage: dict, dana: dict, other_tenant: dict, trail: Trail
) -> None:
    status, body = trail.read(shop.key, "limit=1")
    assert status == 200 and body["nextCursor"], body

    status, refused = trail.read(other_tenant["secretKey"], f"limit=1&cursor={body['nextCursor']}")

    assert status == 400, refused
    assert "cursor" in refused["error"]["details"]["fields"]


def test_a_cursor_of_the_whole_trail_is_400_on_an_entitys_trail(
    shop: Shop, massage: dict, dana: dict, trail: Trail
) -> None:
    status, body = trail.read(shop.key, "limit=1")
    assert status == 200 and body["nextCursor"], body

    status, refused = trail.read(shop.key, f"limit=1&entityId={massage['id']}&cursor={body['nextCursor']}")

    assert status == 400, refused


@pytest.mark.parametrize("cursor", ["garbage", "eyJwayI6IDF9", "e30"])
def test_a_cursor_this_api_never_issued_is_400(shop: Shop, trail: Trail, cursor: str) -> None:
    status, body = trail.read(shop.key, f"cursor={cursor}")

    assert status == 400, body
    assert "cursor" in body["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "window",
    [
        "from=2027-03-10&to=2027-03-01",  # to before from
        "from=2027-03-10&to=2027-03-10T00:00:00Z",  # empty
        "from=2025-01-01&to=2027-01-01",  # more than 400 days
        "from=yesterday",
        "to=2027-02-30",
        "from=2027-03-01T25:00:00Z",
    ],
)
def test_a_bad_time_window_is_400(shop: Shop, window: str) -> None:
    status, body = shop.api.call("GET", f"/v1/admin/audit?{window}", key=shop.key)

    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"


def test_a_window_before_the_changes_holds_nothing(shop: Shop, massage: dict, trail: Trail) -> None:
    trail.read(shop.key)
    past = TODAY - timedelta(days=30)

    status, body = shop.api.call("GET", f"/v1/admin/audit?from={past}&to={past}", key=shop.key)

    assert status == 200, body
    assert body == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_a_limit_outside_1_to_200_is_400(shop: Shop, limit: str) -> None:
    status, body = shop.api.call("GET", f"/v1/admin/audit?{WINDOW}&limit={limit}", key=shop.key)

    assert status == 400, body


def test_the_trail_needs_the_secret_key(shop: Shop) -> None:
    anonymous, _ = shop.api.call("GET", "/v1/admin/audit")
    public, _ = shop.api.call("GET", "/v1/admin/audit", key=shop.public_key)

    assert anonymous == 401
    assert public in (401, 403)
