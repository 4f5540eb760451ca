"""Google Calendar two-way sync, end to end on the emulator against the fake Google.

Everything Google-side goes through the real google-auth and google-api-python-client to
`infra.local.fake_google`; the stream is read from moto by the local StreamPump and handed to
`dispatch_records`, as Lambda would; mail goes to the in-memory fake.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from chalice.test import Client

from chalicelib.api.events import dispatch_records, run_scheduled_task
from chalicelib.domain.calendar_sync import event_id_for
from chalicelib.domain.clock import from_iso
from chalicelib.gateways.google_calendar import GoogleCalendarGateway
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from chalicelib.store import keys
from chalicelib.store.models import CalendarConnectionItem
from infra.local.fake_google import FakeGoogle
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR

DANA = "dana@shop.test"
GROUP = "scheduling-dev"


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        fake.push_enabled = False  # the test client has no address; tests post notifications themselves
        saved = {name: os.environ.get(name) for name in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_API_BASE")}
        os.environ.update(
            {
                "GOOGLE_CLIENT_ID": fake.client_id,
                "GOOGLE_CLIENT_SECRET": fake.client_secret,
                "GOOGLE_API_BASE": fake.url,
            }
        )
        yield fake
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Stream:
    table: str
    times: int = 1
    results: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pump = StreamPump(self.table, self._deliver)

    def _deliver(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        answers = [dispatch_records(batch) for _ in range(self.times)]
        self.results.extend(answers)
        return answers[-1]

    def flush(self) -> None:
        while self.pump.run_once():
            pass
        assert not [f for r in self.results for f in r["batchItemFailures"]], self.results


@dataclass
class World:
    shop: Shop
    google: FakeGoogle
    stream: Stream
    mail: InMemoryMailGateway
    service: dict[str, Any]
    provider: dict[str, Any]

    @property
    def calendar(self) -> str:
        return f"/v1/admin/providers/{self.provider['id']}/calendar"

    def connect(self) -> dict[str, Any]:
        status, body = self.shop.api.call("GET", self.calendar + "/google/authorize", key=self.shop.key)
        assert status == 200, body
        location = self.google.consent(body["url"], DANA)
        query = parse_qs(urlsplit(location).query)
        assert location.startswith("https://dev.example.invalid/oauth/google/callback")
        page = self.shop.api.client.http.get(
            f"/oauth/google/callback?code={query['code'][0]}&state={query['state'][0]}"
        )
        assert page.status_code == 200 and b"Calendar connected" in page.body, page.body
        return self.status()

    def status(self) -> dict[str, Any]:
        status, body = self.shop.api.call("GET", self.calendar, key=self.shop.key)
        assert status == 200, body
        return dict(body)

    def book(self, start: str) -> dict[str, Any]:
        booked = self.shop.booked(self.service, start, self.provider)
        self.stream.flush()
        return dict(booked["appointment"])

    def ours(self) -> list[dict[str, Any]]:
        return [e for e in self.google.events(DANA) if "appointmentId" in str(e.get("extendedProperties"))]

    def slot_starts(self, day: str = MONDAY) -> set[str]:
        return set(self.shop.slots(self.service, day))

    def sync(self) -> dict[str, Any]:
        return registry.calendar_sync().sync(self.shop.tenant["tenant"]["id"], self.provider["id"])

    def notify(self, **override: str) -> tuple[int, Any]:
        channel = [c for c in self.google.channels(DANA) if not c["stopped"]][-1]
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Token": channel["token"],
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": "2",
        } | override
        return self.shop.api.call("POST", "/v1/webhooks/google-calendar", headers=headers)

    def mails(self, subject: str) -> list[str]:
        return [m.recipient for m in self.mail.sent if subject.encode() in m.raw]


@pytest.fixture
def world(aws: str, stripe_fake: Any, google: FakeGoogle) -> Iterator[World]:
    from app import app

    google.reset()
    google.set_clock(lambda: registry.clock().timestamp())
    mail = InMemoryMailGateway()
    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as chalice_client:
        freeze(NOW)
        registry.use("mail_gateway", mail)
        api = Api(chalice_client, stripe_fake)
        shop = Shop(api, api.open_tenant("acme", payments=False))
        service = shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
        provider = shop.provider([service], name="Dana")
        yield World(shop, google, Stream(aws), mail, service, provider)


def _event(start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {"summary": "Dentist", "start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


# --- connect -------------------------------------------------------------------------------


def test_connect_stores_the_grant_encrypted_and_opens_a_watch_channel(world: World) -> None:
    status = world.connect()
    assert status["status"] == "connected" and status["calendarId"] == DANA and status["lastSyncAt"]
    assert status["watchExpiresAt"]
    item = CalendarConnectionItem.get(
        keys.calendar_pk(world.shop.tenant["tenant"]["id"], world.provider["id"]), keys.CONNECTION_SK
    )
    assert item.refresh_token_ciphertext and "1//" not in item.refresh_token_ciphertext
    assert [g["revoked"] for g in world.google.grants(DANA)] == [False]
    assert len(world.google.channels(DANA)) == 1


def test_connecting_puts_the_confirmed_appointments_ahead_in_the_calendar(world: World) -> None:
    booked = world.book(local(MONDAY, "10:00"))
    world.book(local(MONDAY, "12:00"))
    status, _ = world.shop.admin("POST", f"/{booked['id']}/cancel", {"reason": "ill", "refund": "none"})
    assert status == 200
    world.stream.flush()
    world.connect()
    assert [e["start"]["dateTime"] for e in world.ours()] == [local(MONDAY, "12:00")]
    world.connect()  # connecting again duplicates nothing
    assert len(world.ours()) == 1


def test_a_tampered_or_foreign_state_is_refused(world: World) -> None:
    status, body = world.shop.api.call("GET", world.calendar + "/google/authorize", key=world.shop.key)
    location = world.google.consent(body["url"], DANA)
    query = parse_qs(urlsplit(location).query)
    other = world.shop.provider([world.service], name="Eve")
    status, refused = world.shop.api.call(
        "POST",
        f"/v1/admin/providers/{other['id']}/calendar/google/connect",
        {"code": query["code"][0], "state": query["state"][0]},
        key=world.shop.key,
    )
    assert status == 400 and refused["error"]["code"] == "invalid_state"
    tampered = query["state"][0][:-2] + ("AA" if not query["state"][0].endswith("AA") else "BB")
    status, refused = world.shop.api.call(
        "POST", world.calendar + "/google/connect", {"code": query["code"][0], "state": tampered}, key=world.shop.key
    )
    assert status == 400 and refused["error"]["code"] == "invalid_state"


def test_an_expired_state_answers_410(world: World) -> None:
    status, body = world.shop.api.call("GET", world.calendar + "/google/authorize", key=world.shop.key)
    query = parse_qs(urlsplit(world.google.consent(body["url"], DANA)).query)
    freeze(NOW + timedelta(minutes=11))
    status, refused = world.shop.api.call(
        "POST",
        world.calendar + "/google/connect",
        {"code": query["code"][0], "state": query["state"][0]},
        key=world.shop.key,
    )
    assert status == 410 and refused["error"]["code"] == "state_expired"


def test_disconnect_revokes_the_grant_and_frees_busy_time(world: World) -> None:
    world.connect()
    world.google.insert_event(DANA, _event(local(MONDAY, "10:00"), local(MONDAY, "11:00")))
    world.sync()
    assert local(MONDAY, "10:00") not in world.slot_starts()
    status, _ = world.shop.api.call("DELETE", world.calendar + "/google", key=world.shop.key)
    assert status == 204
    assert [g["revoked"] for g in world.google.grants(DANA)] == [True]
    assert world.status()["status"] == "disconnected"
    assert local(MONDAY, "10:00") in world.slot_starts()


# --- push ----------------------------------------------------------------------------------


def test_push_under_five_replays_gives_one_event(world: World) -> None:
    world.connect()
    world.stream.times = 5
    appointment = world.book(local(MONDAY, "10:00"))
    stored = registry.appointment_repository().get(world.shop.tenant["tenant"]["id"], appointment["id"])
    for _ in range(5):  # and the push itself replayed past the ledger: each insert answers 409
        assert registry.calendar_sync().push(stored)["outcome"] == "patched"
    events = world.ours()
    assert len(events) == 1
    assert events[0]["id"] == event_id_for(appointment["id"])
    assert events[0]["extendedProperties"]["private"]["appointmentId"] == appointment["id"]
    assert events[0]["start"]["dateTime"] == appointment["start"]


def test_reschedule_moves_the_event_and_cancel_deletes_it(world: World) -> None:
    world.connect()
    appointment = world.book(local(MONDAY, "10:00"))
    status, moved = world.shop.admin("POST", f"/{appointment['id']}/reschedule", {"start": local(MONDAY, "13:00")})
    assert status == 200, moved
    world.stream.flush()
    assert [e["start"]["dateTime"] for e in world.ours()] == [local(MONDAY, "13:00")]
    status, _ = world.shop.admin("POST", f"/{appointment['id']}/cancel", {"reason": "ill", "refund": "none"})
    assert status == 200
    world.stream.flush()
    assert world.ours() == []
    world.sync()  # our own deletion coming back from Google is no conflict
    status, read = world.shop.admin("GET", f"/{appointment['id']}")
    assert status == 200
    assert read["calendarConflict"] is False


def test_an_expired_access_token_is_refreshed(world: World) -> None:
    world.connect()
    world.google.expire_access_tokens()
    world.book(local(MONDAY, "10:00"))
    assert len(world.ours()) == 1


# --- pull ----------------------------------------------------------------------------------


def test_a_busy_block_removes_slots_and_a_booking_into_it_is_refused(world: World) -> None:
    world.connect()
    before = world.slot_starts()
    assert {local(MONDAY, "10:00"), local(MONDAY, "11:00")} <= before
    world.google.insert_event(DANA, _event(local(MONDAY, "10:30"), local(MONDAY, "11:15")))
    world.sync()
    after = world.slot_starts()
    assert before - after == {local(MONDAY, "10:00"), local(MONDAY, "11:00")}
    status, refused = world.shop.book(world.service, local(MONDAY, "10:00"), world.provider)
    assert status == 409 and refused["error"]["code"] == "slot_unavailable"


def test_busy_time_synced_while_a_booking_is_being_made_fails_its_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking has read the busy time (none at 10:00) when a sync lands the event: the
    busy version it read is stale, so its transaction fails instead of booking over the event."""
    world.connect()
    views = registry.tenant_views()
    read = views.around
    calendars = registry.calendar_repository()
    tenant_id = world.shop.tenant["tenant"]["id"]

    def then_a_sync_lands(*args: Any, **kwargs: Any) -> Any:
        view = read(*args, **kwargs)
        start, end = from_iso(local(MONDAY, "10:00")), from_iso(local(MONDAY, "11:00"))
        calendars.put_busy(tenant_id, world.provider["id"], "ext-racing-event", start, end)
        return view

    monkeypatch.setattr(views, "around", then_a_sync_lands)
    status, refused = world.shop.book(world.service, local(MONDAY, "10:00"), world.provider)
    monkeypatch.undo()

    assert status == 409 and refused["error"]["code"] == "slot_unavailable"
    assert local(MONDAY, "10:00") not in world.slot_starts()
    assert world.shop.book(world.service, local(MONDAY, "12:00"), world.provider)[0] == 201  # nothing else changed


def test_all_day_transparent_declined_cancelled_and_own_events(world: World) -> None:
    world.connect()
    own = world.book(local(MONDAY, "09:00"))
    world.google.insert_event(
        DANA, {"summary": "Holiday", "start": {"date": "2027-03-16"}, "end": {"date": "2027-03-17"}}
    )
    world.google.insert_event(DANA, _event(local(MONDAY, "11:00"), local(MONDAY, "12:00"), transparency="transparent"))
    declined = [{"email": DANA, "self": True, "responseStatus": "declined"}]
    world.google.insert_event(DANA, _event(local(MONDAY, "13:00"), local(MONDAY, "14:00"), attendees=declined))
    gone = world.google.insert_event(DANA, _event(local(MONDAY, "15:00"), local(MONDAY, "16:00")))
    world.google.delete_event(DANA, gone["id"])
    world.sync()
    monday = world.slot_starts()
    assert {local(MONDAY, h) for h in ("10:00", "11:00", "13:00", "15:00", "16:00")} <= monday
    assert local(MONDAY, "09:00") not in monday  # our booking, not a second block
    assert world.slot_starts("2027-03-16") == set()  # the all-day event blocks Dana's local day
    assert own["status"] == "confirmed"


def test_incremental_sync_and_exactly_one_full_resync_after_410(world: World) -> None:
    world.connect()
    first = world.google.insert_event(DANA, _event(local(MONDAY, "10:00"), local(MONDAY, "11:00")))
    running = world.google.insert_event(DANA, _event(local(MONDAY, "08:00"), local(MONDAY, "13:00")))
    assert world.sync()["outcome"] == "incremental"
    assert local(MONDAY, "10:00") not in world.slot_starts()
    world.google.patch_event(
        DANA, first["id"], {"start": {"dateTime": local(MONDAY, "14:00")}, "end": {"dateTime": local(MONDAY, "15:00")}}
    )
    world.google.invalidate_sync_tokens(DANA)
    lists_before = len([r for r in world.google.requests if r["method"] == "GET" and r["path"].endswith("/events")])
    assert world.sync()["outcome"] == "full"
    lists = [r for r in world.google.requests if r["method"] == "GET" and r["path"].endswith("/events")][lists_before:]
    assert len(lists) == 2 and "syncToken" in lists[0]["query"] and "syncToken" not in lists[1]["query"]
    assert "timeMin" in lists[1]["query"]
    world.google.delete_event(DANA, running["id"])
    world.sync()
    monday = world.slot_starts()
    assert local(MONDAY, "10:00") in monday and local(MONDAY, "14:00") not in monday
    assert world.sync()["outcome"] == "incremental"


def test_a_full_resync_keeps_an_event_in_progress(world: World) -> None:
    world.connect()
    freeze(datetime(2027, 3, 15, 15, tzinfo=UTC))  # Monday 11:00 in New York
    world.google.insert_event(DANA, _event(local(MONDAY, "10:00"), local(MONDAY, "13:00")))
    world.sync()
    world.google.invalidate_sync_tokens(DANA)
    assert world.sync()["outcome"] == "full"
    assert local(MONDAY, "12:00") not in world.slot_starts()  # still busy after the resync
    assert local(MONDAY, "13:00") in world.slot_starts()


def test_a_new_event_over_an_existing_booking_is_recorded_and_the_business_told(world: World) -> None:
    world.connect()
    world.book(local(MONDAY, "10:00"))
    world.google.insert_event(DANA, _event(local(MONDAY, "10:30"), local(MONDAY, "11:30")))
    world.sync()
    world.sync()
    assert world.mails("Calendar overlap") == ["owner@acme.test"]


def test_our_event_deleted_in_google_sets_calendar_conflict_and_mails_the_business(world: World) -> None:
    world.connect()
    appointment = world.book(local(MONDAY, "10:00"))
    world.google.delete_event(DANA, event_id_for(appointment["id"]))
    world.sync()
    status, read = world.shop.admin("GET", f"/{appointment['id']}")
    assert status == 200
    assert read["calendarConflict"] is True and read["status"] == "confirmed"
    assert read["version"] == appointment["version"]  # the appointment itself was not touched
    assert world.mails("Calendar conflict") == ["owner@acme.test"]
    status, _ = world.shop.admin("POST", f"/{appointment['id']}/reschedule", {"start": local(MONDAY, "14:00")})
    assert status == 200
    world.stream.flush()  # the business decided: the event is back, at the new time, and the flag is gone
    assert [e["start"]["dateTime"] for e in world.ours()] == [local(MONDAY, "14:00")]
    assert world.shop.admin("GET", f"/{appointment['id']}")[1]["calendarConflict"] is False


def test_our_event_moved_in_google_sets_calendar_conflict(world: World) -> None:
    world.connect()
    appointment = world.book(local(MONDAY, "10:00"))
    moved = {"start": {"dateTime": local(MONDAY, "15:00")}, "end": {"dateTime": local(MONDAY, "16:00")}}
    world.google.patch_event(DANA, event_id_for(appointment["id"]), moved)
    world.sync()
    status, read = world.shop.admin("GET", f"/{appointment['id']}")
    assert status == 200
    assert read["calendarConflict"] is True and read["start"] == appointment["start"]


# --- watch, poll, renewal -------------------------------------------------------------------


def test_a_notification_with_a_wrong_token_is_rejected_and_a_right_one_syncs(world: World) -> None:
    world.connect()
    world.google.insert_event(DANA, _event(local(MONDAY, "10:00"), local(MONDAY, "11:00")))
    status, refused = world.notify(**{"X-Goog-Channel-Token": "guessed"})
    assert status == 401 and refused["error"]["code"] == "unauthorized"
    status, refused = world.notify(**{"X-Goog-Resource-ID": "another-resource"})
    assert status == 401
    assert local(MONDAY, "10:00") in world.slot_starts()
    status, receipt = world.notify()
    assert status == 200 and receipt == {"received": True, "outcome": "incremental"}
    assert local(MONDAY, "10:00") not in world.slot_starts()


def test_the_channel_is_renewed_a_day_before_expiry_new_before_old_stops(world: World) -> None:
    world.connect()
    first = world.google.channels(DANA)[0]
    scheduler = boto3.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"] if s["Name"].startswith("gcal-")]
    assert names == [f"gcal-renew-{first['id']}"]
    schedule = scheduler.get_schedule(Name=names[0], GroupName=GROUP)
    expires = datetime.fromtimestamp(first["expiration"] / 1000, UTC)
    assert schedule["ScheduleExpression"] == f"at({(expires - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%S')})"
    outcome = run_scheduled_task(json.loads(schedule["Target"]["Input"]))
    assert outcome["outcome"] == "renewed"
    channels = world.google.channels(DANA)
    assert [c["stopped"] for c in channels] == [True, False]
    calls = [(r["method"], r["path"]) for r in world.google.requests]
    watches = [i for i, call in enumerate(calls) if call == ("POST", "/calendar/v3/calendars/primary/events/watch")]
    assert len(watches) == 2, calls  # one at connect, one by the renewal
    assert watches[-1] < calls.index(("POST", "/calendar/v3/channels/stop")), calls  # the new one opens first
    assert world.status()["watchExpiresAt"] is not None
    status, _ = world.notify()
    assert status == 200
    assert run_scheduled_task(json.loads(schedule["Target"]["Input"]))["outcome"] == "stale"  # a replay


def test_the_poll_reopens_a_channel_whose_renewal_was_lost(world: World) -> None:
    world.connect()
    first = world.google.channels(DANA)[0]
    expires = datetime.fromtimestamp(first["expiration"] / 1000, UTC)
    freeze(expires - timedelta(hours=6))  # the renewal schedule never fired
    registry.calendar_sync().poll()
    assert [c["stopped"] for c in world.google.channels(DANA)] == [True, False]
    assert world.notify()[0] == 200


def test_the_poll_syncs_calendars_not_synced_recently(world: World) -> None:
    world.connect()
    world.google.insert_event(DANA, _event(local(MONDAY, "10:00"), local(MONDAY, "11:00")))
    assert registry.calendar_sync().poll()["synced"] == 0  # synced at connect, a moment ago
    freeze(NOW + timedelta(minutes=16))
    assert registry.calendar_sync().poll() == {"due": 1, "synced": 1, "failed": 0}
    assert local(MONDAY, "10:00") not in world.slot_starts()


# --- resilience ------------------------------------------------------------------------------


def test_429_and_5xx_are_retried_with_jittered_backoff(world: World) -> None:
    waits: list[float] = []
    registry.use(
        "google_calendar_gateway",
        GoogleCalendarGateway(world.google.client_id, world.google.client_secret, world.google.url, sleep=waits.append),
    )
    world.connect()
    world.google.fail_next("POST", "/calendar/v3/calendars/primary/events", 429, times=2)
    world.google.fail_next("POST", "/calendar/v3/calendars/primary/events", 403, "rateLimitExceeded")
    world.google.fail_next("POST", "/calendar/v3/calendars/primary/events", 503)
    world.book(local(MONDAY, "10:00"))
    assert len(world.ours()) == 1
    assert len(waits) == 4 and all(0 <= w <= 0.5 * 2**n for n, w in enumerate(waits))


def test_the_per_user_rate_limit_waits_instead_of_exceeding(world: World) -> None:
    waits: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    gateway = GoogleCalendarGateway(
        world.google.client_id,
        world.google.client_secret,
        world.google.url,
        sleep=sleep,
        calls_per_minute=3,
        monotonic=lambda: clock[0],
    )
    registry.use("google_calendar_gateway", gateway)
    world.connect()  # watch + list: two calls
    world.sync()
    world.sync()  # the fourth call in the same minute waits for the first to leave it
    assert waits and abs(sum(waits) - 60) < 1


def test_invalid_grant_marks_broken_mails_once_and_booking_goes_on(world: World) -> None:
    world.connect()
    world.google.revoke_grants(DANA)
    world.google.expire_access_tokens()
    world.book(local(MONDAY, "10:00"))
    world.book(local(MONDAY, "12:00"))
    assert world.sync() == {"outcome": "not_connected"}
    assert world.status()["status"] == "broken"
    assert world.mails("Google Calendar of Dana disconnected") == ["owner@acme.test"]
    assert world.ours() == []


def test_a_broken_connection_stops_its_stale_busy_time_blocking_availability(world: World) -> None:
    # GIVEN synced busy time that removes two slots
    world.connect()
    before = world.slot_starts()
    world.google.insert_event(DANA, _event(local(MONDAY, "10:30"), local(MONDAY, "11:15")))
    world.sync()
    assert local(MONDAY, "10:00") not in world.slot_starts()
    # WHEN the grant is revoked and the next sync finds the connection broken
    world.google.revoke_grants(DANA)
    world.google.expire_access_tokens()
    world.sync()
    # THEN the busy time we can no longer keep current blocks nothing, as the mail says
    assert world.status()["status"] == "broken"
    assert world.slot_starts() == before


def test_another_tenants_provider_calendar_is_404(world: World) -> None:
    world.connect()
    other = world.shop.api.open_tenant("globex", payments=False)
    for method, path in (
        ("GET", world.calendar),
        ("GET", world.calendar + "/google/authorize"),
        ("DELETE", world.calendar + "/google"),
    ):
        status, body = world.shop.api.call(method, path, key=other["secretKey"])
        assert status == 404, (method, path, body)
    assert world.status()["status"] == "connected"
