"""The stream dispatcher and the scheduled tasks on the emulator, fed by moto's real stream.

Bookings go through the API (Chalice's test client); the table's stream is read from moto
by the local StreamPump, which hands Lambda-shaped records to `dispatch_records`, exactly
what the deployed `on_dynamodb_record` handler runs. Schedules are created on moto's
EventBridge Scheduler; mail and SMS go to the in-memory fakes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import icalendar
import pytest
from chalice.test import Client

from chalicelib.api.appointment_models import NewBooking
from chalicelib.api.events import dispatch_records, run_scheduled_task
from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway, MailRejectedError, MailThrottledError, OutgoingMail
from chalicelib.gateways.sms import InMemorySmsGateway
from chalicelib.services import registry
from chalicelib.store import keys
from chalicelib.store.catalog import CatalogRepository
from chalicelib.store.effects import LEASE
from chalicelib.store.models import LockItem
from chalicelib.store.tenants import TenantRepository
from infra.local.pumps import MAX_ATTEMPTS, SchedulePump, StreamPump
from tests.api.booking_support import MONDAY, NOW, TUESDAY, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR

GROUP = "scheduling-dev"
DLQ_NAME = "scheduling-dev-events-dlq"


# --- the world the tests run in ------------------------------------------------------------


@dataclass
class Outbox:
    """What the mail fake sent, parsed."""

    gateway: InMemoryMailGateway

    def messages(self, kind: str | None = None, to: str | None = None) -> list[EmailMessage]:
        found = []
        for mail in self.gateway.sent:
            if (kind is None or mail.tags.get("kind") == kind) and (to is None or mail.recipient == to):
                message = message_from_bytes(mail.raw, policy=default)
                assert isinstance(message, EmailMessage)
                found.append(message)
        return found

    def one(self, kind: str, to: str) -> EmailMessage:
        found = self.messages(kind, to)
        assert len(found) == 1, [(m.tags, m.recipient) for m in self.gateway.sent]
        return found[0]

    def kinds(self) -> list[tuple[str, str]]:
        return sorted((mail.tags["kind"], mail.recipient) for mail in self.gateway.sent)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(attachment.get_content())


@dataclass
class Stream:
    """The table's stream as Lambda delivers it; `times` copies of every batch (at least once)."""

    table: str
    times: int = 1
    results: list[dict[str, Any]] = field(default_factory=list)
    pump: StreamPump = field(init=False)

    def __post_init__(self) -> None:
        self.pump = StreamPump(self.table, self._deliver, dead_letter_queue_url=dead_letter_queue_url())

    def _deliver(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        answers = [dispatch_records(batch) for _ in range(self.times)]
        self.results.extend(answers)
        return answers[-1]

    def flush(self) -> int:
        return self.pump.run_once()

    def failures(self) -> list[str]:
        return [f["itemIdentifier"] for result in self.results for f in result["batchItemFailures"]]


def dead_letter_queue_url() -> str:
    return str(boto3.client("sqs").get_queue_url(QueueName=DLQ_NAME)["QueueUrl"])


def dead_letters() -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=dead_letter_queue_url(), MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def schedules() -> dict[str, dict[str, Any]]:
    """Every schedule of the group on moto, by name, as get_schedule describes it."""
    scheduler = boto3.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP).get("Schedules", [])]
    return {name: scheduler.get_schedule(Name=name, GroupName=GROUP) for name in names}


def audit_of(shop: Shop, entity_id: str) -> list[dict[str, Any]]:
    """The entity's audit trail (entries carry the stream's real time, not the frozen clock)."""
    today = datetime.now(UTC)
    window = f"from={(today - timedelta(days=1)).date()}&to={(today + timedelta(days=1)).date()}"
    status, body = shop.api.call("GET", f"/v1/admin/audit?entityId={entity_id}&{window}", key=shop.key)
    assert status == 200, body
    return list(body["items"])


def at(instant: str) -> str:
    return "at(" + from_iso(instant).strftime("%Y-%m-%dT%H:%M:%S") + ")"


@pytest.fixture
def outbox(aws: str) -> Outbox:
    gateway = InMemoryMailGateway()
    registry.use("mail_gateway", gateway)
    return Outbox(gateway)


@pytest.fixture
def sms(aws: str) -> InMemorySmsGateway:
    gateway = InMemorySmsGateway()
    registry.use("sms_gateway", gateway)
    return gateway


@pytest.fixture
def api(aws: str, stripe_fake: Any) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as chalice_client:
        yield Api(chalice_client, stripe_fake)


@pytest.fixture
def shop(api: Api, outbox: Outbox, sms: InMemorySmsGateway) -> Shop:
    freeze(NOW)
    return Shop(api, api.open_tenant("acme"))


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)


@pytest.fixture
def dana(shop: Shop, massage: dict[str, Any]) -> dict[str, Any]:
    return shop.provider([massage], name="Dana")


@pytest.fixture
def stream(aws: str) -> Stream:
    return Stream(aws)


@pytest.fixture
def twice(aws: str) -> Stream:
    return Stream(aws, times=2)


ANN = "ann@example.test"
DANA = "dana@shop.test"


def booked(shop: Shop, service: dict[str, Any], day: str = MONDAY, hhmm: str = "10:00", **fields: Any) -> dict:
    return shop.booked(service, local(day, hhmm), **fields)["appointment"]


def reminder(shop: Shop, appointment: dict[str, Any], offset: int, version: int | None = None) -> dict[str, Any]:
    """The input the reminder schedule hands to the scheduled_task Lambda."""
    return {
        "task": "reminder",
        "tenantId": shop.tenant["tenant"]["id"],
        "appointmentId": appointment["id"],
        "version": appointment["version"] if version is None else version,
        "offsetMinutes": offset,
    }


# --- confirmation, duplicated delivery --------------------------------------------------------


def test_every_record_delivered_twice_still_mails_one_confirmation_to_client_and_provider(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, twice: Stream
) -> None:
    # GIVEN two bookings, and a stream that hands every batch to the dispatcher twice
    booked(shop, massage, MONDAY, "10:00")
    booked(shop, massage, TUESDAY, "11:00", client=client("Bob"))

    # WHEN the real stream is pumped (and pumped again: nothing new arrives)
    assert twice.flush() > 0
    twice.flush()

    # THEN each client and the provider got exactly one confirmation per booking
    assert twice.failures() == []
    assert outbox.kinds() == [
        ("confirmation", ANN),
        ("confirmation", "bob@example.test"),
        ("confirmation", DANA),
        ("confirmation", DANA),
    ]


def test_a_confirmation_reads_the_tenant_and_the_provider_once_for_all_its_effects(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a booking, and a count of the table reads of tenants and providers
    booked(shop, massage)
    reads: list[str] = []
    for repository, method in ((TenantRepository, "_load"), (CatalogRepository, "_load_provider")):
        original = getattr(repository, method)

        def counted(self: Any, *args: Any, _original: Any = original, _method: str = method) -> Any:
            reads.append(_method)
            return _original(self, *args)

        monkeypatch.setattr(repository, method, counted)

    # WHEN its records are dispatched (two mails, the reminders, the audit entry)
    stream.flush()

    # THEN everything went out, reading each of them once rather than once per effect
    assert stream.failures() == []
    assert len(outbox.gateway.sent) == 2 and len(schedules()) == 2
    assert sorted(reads) == ["_load", "_load_provider"]


def test_a_stream_read_again_from_the_start_sends_nothing_new(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN a booking whose records were all processed
    booked(shop, massage)
    stream.flush()
    sent = len(outbox.gateway.sent)

    # WHEN a second reader replays the whole stream from TRIM_HORIZON (a redeployed mapping)
    replay = Stream(stream.table)
    replay.flush()

    # THEN nothing is sent again and no schedule is added
    assert replay.failures() == []
    assert len(outbox.gateway.sent) == sent == 2
    assert len(schedules()) == 2


def test_client_confirmation_has_a_working_manage_link_and_an_ics_request(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    appointment = booked(shop, massage)
    stream.flush()

    mail = outbox.one("confirmation", ANN)
    link = next(word for word in text_of(mail).split() if "/manage/" in word)
    token = parse_qs(urlparse(link).query)["token"][0]
    status, seen = shop.public("GET", appointment["id"], token=token)
    assert status == 200, seen
    assert seen["id"] == appointment["id"]
    event = calendar_of(mail).walk("VEVENT")[0]
    assert calendar_of(mail)["METHOD"] == "REQUEST"
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == from_iso(local(MONDAY, "10:00"))
    assert mail["Subject"].startswith("Confirmed: Massage")
    assert mail["From"].addresses[0].addr_spec == "no-reply@scheduling.local.test"


def test_the_provider_mail_carries_no_client_manage_link(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    booked(shop, massage)
    stream.flush()

    mail = outbox.one("confirmation", DANA)
    assert "/manage/" not in text_of(mail)
    assert "token=" not in mail.as_string()


# --- reminder schedules -----------------------------------------------------------------------


def test_a_confirmed_booking_gets_one_schedule_per_reminder_offset_on_the_scheduler(
    shop: Shop, massage: dict, dana: dict, stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the deployed configuration's scheduler dead-letter queue
    dlq_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=dead_letter_queue_url(), AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    monkeypatch.setenv("SCHEDULER_DLQ_ARN", dlq_arn)
    appointment = booked(shop, massage, MONDAY, "10:00")

    stream.flush()

    found = schedules()
    day_before, hour_before = f"rem-{appointment['id']}-1440-v1", f"rem-{appointment['id']}-60-v1"
    assert set(found) == {day_before, hour_before}
    assert found[day_before]["ScheduleExpression"] == "at(2027-03-14T14:00:00)"  # 10:00 EDT is 14:00Z
    assert found[hour_before]["ScheduleExpression"] == "at(2027-03-15T13:00:00)"
    for schedule in found.values():
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert schedule["Target"]["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert json.loads(found[hour_before]["Target"]["Input"]) == reminder(shop, appointment, 60)


def test_an_offset_already_past_at_booking_time_is_skipped(
    shop: Shop, massage: dict, dana: dict, stream: Stream
) -> None:
    # GIVEN it is 20:00Z the evening before a 10:00 EDT (14:00Z) appointment
    freeze(from_iso("2027-03-14T20:00:00Z"))
    appointment = booked(shop, massage, MONDAY, "10:00")

    stream.flush()

    # THEN only the 1-hour reminder exists; the 24-hour one was never created (nor fired)
    assert set(schedules()) == {f"rem-{appointment['id']}-60-v1"}


def test_reschedule_replaces_the_schedules_and_mails_each_party_once_with_sequence_2(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, twice: Stream
) -> None:
    # GIVEN a booking whose effects ran
    made = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id, token = made["appointment"]["id"], made["manage"]["token"]
    twice.flush()

    # WHEN the client moves it to Tuesday 15:00 and the stream runs (twice per batch)
    status, moved = shop.api.call(
        "POST",
        f"/v1/public/appointments/{appointment_id}/reschedule",
        {"token": token, "start": local(TUESDAY, "15:00")},
        public_key=shop.public_key,
    )
    assert status == 200, moved
    twice.flush()

    # THEN the v1 schedules are gone and v2 ones exist at the new times
    found = schedules()
    assert set(found) == {f"rem-{appointment_id}-1440-v2", f"rem-{appointment_id}-60-v2"}
    assert found[f"rem-{appointment_id}-1440-v2"]["ScheduleExpression"] == at(local(MONDAY, "15:00"))
    assert found[f"rem-{appointment_id}-60-v2"]["ScheduleExpression"] == at(local(TUESDAY, "14:00"))
    # AND each party got one reschedule mail whose invitation has the same UID and SEQUENCE 2
    assert twice.failures() == []
    first_uid = calendar_of(outbox.one("confirmation", ANN)).walk("VEVENT")[0]["UID"]
    for recipient in (ANN, DANA):
        calendar = calendar_of(outbox.one("reschedule", recipient))
        event = calendar.walk("VEVENT")[0]
        assert calendar["METHOD"] == "REQUEST"
        assert event["SEQUENCE"] == 2
        assert event["UID"] == first_uid
        assert event.decoded("DTSTART") == from_iso(local(TUESDAY, "15:00"))


def test_a_move_to_another_provider_takes_the_event_off_the_first_providers_calendar(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN a booking with Dana, then the admin moves it to Eve at the same time
    shop.provider([massage], name="Eve")
    appointment = booked(shop, massage, provider=dana)
    status, moved = shop.admin(
        "POST", f"/{appointment['id']}/reschedule", {"start": appointment["start"], "providerId": moved_to(shop)}
    )
    assert status == 200, moved

    stream.flush()

    # THEN Dana gets a cancellation of her event (same UID, SEQUENCE 2), Eve and Ann the new one
    withdrawn = outbox.one("cancellation", DANA)
    calendar = calendar_of(withdrawn)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "CANCEL"
    assert event["SEQUENCE"] == 2
    assert event["UID"] == calendar_of(outbox.one("confirmation", DANA)).walk("VEVENT")[0]["UID"]
    assert "Moved to another provider" in text_of(withdrawn)
    assert calendar_of(outbox.one("reschedule", "eve@shop.test"))["METHOD"] == "REQUEST"
    assert calendar_of(outbox.one("reschedule", ANN))["METHOD"] == "REQUEST"
    assert outbox.messages("cancellation", ANN) == []


def moved_to(shop: Shop) -> str:
    status, body = shop.api.call("GET", "/v1/admin/providers", key=shop.key)
    assert status == 200, body
    return next(p["id"] for p in body["items"] if p["name"] == "Eve")


def test_the_tenants_own_reminder_offsets_are_used(shop: Shop, massage: dict, dana: dict, stream: Stream) -> None:
    shop.settings(reminderOffsetsMinutes=[2880, 15])
    appointment = booked(shop, massage, MONDAY, "10:00")

    stream.flush()

    found = schedules()
    assert set(found) == {f"rem-{appointment['id']}-2880-v1", f"rem-{appointment['id']}-15-v1"}
    assert found[f"rem-{appointment['id']}-2880-v1"]["ScheduleExpression"] == "at(2027-03-13T14:00:00)"
    assert found[f"rem-{appointment['id']}-15-v1"]["ScheduleExpression"] == "at(2027-03-15T13:45:00)"


def test_cancel_deletes_the_schedules_and_mails_a_method_cancel_invitation(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, twice: Stream
) -> None:
    appointment = booked(shop, massage)
    twice.flush()
    assert len(schedules()) == 2

    status, body = shop.admin("POST", f"/{appointment['id']}/cancel", {"reason": "Provider ill"})
    assert status == 200, body
    twice.flush()

    assert schedules() == {}
    for recipient in (ANN, DANA):
        mail = outbox.one("cancellation", recipient)
        calendar = calendar_of(mail)
        assert calendar["METHOD"] == "CANCEL"
        assert [part.get_param("method") for part in mail.iter_attachments()] == ["CANCEL"]
        assert calendar.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
        assert "Provider ill" in text_of(mail)
    # the client's mail links to the (now view-only) booking; the provider's carries no client link
    assert "/manage/" in text_of(outbox.one("cancellation", ANN))
    assert "/manage/" not in text_of(outbox.one("cancellation", DANA))


# --- the reminder target --------------------------------------------------------------------


def test_the_reminder_of_a_moved_appointment_sends_nothing(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    made = shop.booked(massage, local(MONDAY, "10:00"))
    appointment = made["appointment"]
    shop.public(
        "POST", appointment["id"], "reschedule", {"token": made["manage"]["token"], "start": local(TUESDAY, "10:00")}
    )
    stream.flush()
    sent = len(outbox.gateway.sent)
    freeze(from_iso(local(MONDAY, "09:00")))  # when the old 1-hour reminder would have fired

    assert run_scheduled_task(reminder(shop, appointment, 60, version=1)) == {"outcome": "moved"}
    assert len(outbox.gateway.sent) == sent


def test_the_reminder_of_a_cancelled_appointment_sends_nothing(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, sms: InMemorySmsGateway, stream: Stream
) -> None:
    shop.settings(smsEnabled=True)
    appointment = booked(shop, massage, client={**client(), "phone": "+12125550100"})
    shop.admin("POST", f"/{appointment['id']}/cancel", {})
    stream.flush()
    sent = len(outbox.gateway.sent)
    freeze(from_iso(local(MONDAY, "09:00")))

    assert run_scheduled_task(reminder(shop, appointment, 60, version=1)) == {"outcome": "not_confirmed"}
    assert len(outbox.gateway.sent) == sent
    assert sms.sent == []


def test_a_due_reminder_is_sent_once_even_when_the_task_runs_twice(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    appointment = booked(shop, massage)
    stream.flush()
    freeze(from_iso(local(MONDAY, "09:00")))

    first = run_scheduled_task(reminder(shop, appointment, 60))
    second = run_scheduled_task(reminder(shop, appointment, 60))

    assert (first, second) == ({"outcome": "sent"}, {"outcome": "already_sent"})
    assert outbox.kinds().count(("reminder", ANN)) == 1
    assert outbox.kinds().count(("reminder", DANA)) == 1
    assert "/manage/" in text_of(outbox.one("reminder", ANN))


def test_a_reminder_for_an_appointment_that_started_sends_nothing(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    appointment = booked(shop, massage)
    stream.flush()
    freeze(from_iso(local(MONDAY, "10:05")))

    assert run_scheduled_task(reminder(shop, appointment, 60)) == {"outcome": "past"}
    assert outbox.messages("reminder") == []


def test_the_local_schedule_pump_fires_only_due_schedules_and_deletes_them_after(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN a booking's two reminder schedules on the scheduler
    appointment = booked(shop, massage)
    stream.flush()
    pump = SchedulePump(GROUP, run_scheduled_task, registry.clock)

    # WHEN the pump runs before anything is due, then when the 24-hour reminder is due
    nothing = pump.run_once()
    freeze(from_iso(local(MONDAY, "10:00")) - timedelta(hours=23))
    fired = pump.run_once()

    # THEN only the due one fired (mailing both parties) and, like ActionAfterCompletion
    # DELETE, it is gone while the 1-hour one waits
    assert (nothing, fired) == (0, 1)
    assert sorted(m.recipient for m in outbox.gateway.sent if m.tags["kind"] == "reminder") == [ANN, DANA]
    assert set(schedules()) == {f"rem-{appointment['id']}-60-v1"}


def test_a_pump_that_lists_rarely_never_fires_a_schedule_deleted_since_its_listing(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN two bookings' reminders, listed once by a pump that lists only every hour
    first = booked(shop, massage, TUESDAY, "10:00")
    second = booked(shop, massage, TUESDAY, "11:00", client=client("Bob"))
    stream.flush()
    pump = SchedulePump(GROUP, run_scheduled_task, registry.clock, list_every_seconds=3600)
    assert pump.run_once() == 0

    # WHEN the first booking's 24-hour reminder is deleted behind the pump's back, and both
    # bookings' 24-hour reminders are then due
    boto3.client("scheduler").delete_schedule(Name=f"rem-{first['id']}-1440-v1", GroupName=GROUP)
    freeze(from_iso(local(TUESDAY, "11:00")) - timedelta(hours=23))
    fired = pump.run_once()

    # THEN only the one still on the scheduler fired, to Bob and the provider
    assert fired == 1
    assert sorted(m.recipient for m in outbox.gateway.sent if m.tags["kind"] == "reminder") == [
        "bob@example.test",
        DANA,
    ]
    assert f"rem-{second['id']}-1440-v1" not in schedules()


@dataclass
class ThrottlesOnce(InMemoryMailGateway):
    """SES throttling the first reminder to one address, then accepting everything."""

    victim: str = ""
    throttled: int = 0

    def send(self, mail: OutgoingMail) -> str:
        if mail.recipient == self.victim and mail.tags["kind"] == "reminder" and not self.throttled:
            self.throttled += 1
            raise MailThrottledError("Throttling")
        return super().send(mail)


def test_a_reminder_throttled_halfway_is_retried_without_mailing_anyone_twice(
    shop: Shop, massage: dict, dana: dict, stream: Stream
) -> None:
    # GIVEN SES throttles the provider's reminder (sent after the client's) once
    gateway = ThrottlesOnce(victim=DANA)
    registry.use("mail_gateway", gateway)
    appointment = booked(shop, massage)
    stream.flush()
    freeze(from_iso(local(MONDAY, "09:00")))

    # WHEN the scheduler's first attempt fails and its retry runs
    with pytest.raises(MailThrottledError):
        run_scheduled_task(reminder(shop, appointment, 60))
    retry = run_scheduled_task(reminder(shop, appointment, 60))

    # THEN the client got one reminder, the provider one
    reminders = sorted(m.recipient for m in gateway.sent if m.tags["kind"] == "reminder")
    assert retry == {"outcome": "sent"}
    assert reminders == [ANN, DANA]


def test_malformed_and_unknown_scheduled_tasks_are_reported_not_raised(aws: str) -> None:
    assert run_scheduled_task({"task": "reminder", "tenantId": "tn_x"}) == {"outcome": "malformed"}
    assert run_scheduled_task({"task": "nap", "tenantId": "tn_x", "appointmentId": "apt_x", "version": 1}) == {
        "outcome": "unknown_task"
    }
    assert run_scheduled_task(
        {"task": "reminder", "tenantId": "tn_x", "appointmentId": "apt_x", "version": 1, "offsetMinutes": 60}
    ) == {"outcome": "gone"}


# --- failures: throttling, rejection, poison ---------------------------------------------------


def test_ses_throttling_fails_the_record_and_redelivery_sends_it_exactly_once(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN SES throttles the next message
    outbox.gateway.fail_next.append(MailThrottledError("Throttling"))
    appointment = booked(shop, massage)

    # WHEN the stream runs: the booking's record fails and is reported
    stream.flush()
    assert len(stream.failures()) == 1
    assert outbox.gateway.sent == []

    # AND Lambda redelivers from that record
    stream.flush()
    stream.flush()

    # THEN the mail went out once, the schedules exist once, and the record is no longer failing
    assert len(stream.failures()) == 1
    assert outbox.kinds() == [("confirmation", ANN), ("confirmation", DANA)]
    assert set(schedules()) == {f"rem-{appointment['id']}-1440-v1", f"rem-{appointment['id']}-60-v1"}
    assert [entry["action"] for entry in audit_of(shop, appointment["id"])] == ["booked"]


def test_a_permanently_rejected_mail_is_not_retried(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    outbox.gateway.fail_next.append(MailRejectedError("MessageRejected"))
    booked(shop, massage)

    stream.flush()
    Stream(stream.table).flush()  # a full replay does not try again either

    assert stream.failures() == []
    assert outbox.kinds() == [("confirmation", DANA)]


def _undecodable(sequence: str) -> dict[str, Any]:
    """A record whose image uses a type descriptor DynamoDB never produces."""
    return {
        "eventID": "poison",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": sequence,
            "Keys": {"pk": {"S": "T#tn_x#APPT#apt_x"}, "sk": {"S": "APPT"}},
            "NewImage": {"pk": {"S": "T#tn_x#APPT#apt_x"}, "sk": {"S": "APPT"}, "type": {"Q": "Appointment"}},
        },
    }


def test_an_undecodable_record_is_reported_after_the_records_before_it_were_processed(
    aws: str, shop: Shop, massage: dict, dana: dict, outbox: Outbox
) -> None:
    # GIVEN a real batch holding two bookings, with a poisoned record between them
    first = booked(shop, massage, MONDAY, "10:00")
    collected: list[dict[str, Any]] = []

    def collect(batch: list[dict[str, Any]]) -> dict[str, Any]:
        collected.extend(batch)
        return {"batchItemFailures": []}

    reader = StreamPump(aws, collect)
    reader.run_once()
    split = len(collected)
    booked(shop, massage, TUESDAY, "10:00", client=client("Bob"))
    reader.run_once()
    batch = [*collected[:split], _undecodable("999999"), *collected[split:]]

    # WHEN the batch is dispatched
    answer = dispatch_records(batch)

    # THEN the poisoned record is the one reported, and the booking before it was handled
    assert answer == {"batchItemFailures": [{"itemIdentifier": "999999"}]}
    assert outbox.kinds() == [("confirmation", ANN), ("confirmation", DANA)]
    assert any(name.startswith(f"rem-{first['id']}-") for name in schedules())


def test_a_record_that_keeps_failing_goes_to_the_dead_letter_queue_and_the_rest_still_flow(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN an appointment item written by something else that the dispatcher cannot read,
    # between two real bookings
    booked(shop, massage, MONDAY, "10:00")
    tenant_id = shop.tenant["tenant"]["id"]
    boto3.client("dynamodb").put_item(
        TableName=stream.table,
        Item={
            "pk": {"S": keys.appointment_pk(tenant_id, "apt_broken")},
            "sk": {"S": keys.APPOINTMENT_SK},
            "type": {"S": "Appointment"},
            "status": {"S": "confirmed"},
        },
    )
    booked(shop, massage, TUESDAY, "10:00", client=client("Bob"))

    # WHEN Lambda's retries run out (one pump round per attempt)
    for _ in range(MAX_ATTEMPTS):
        stream.flush()

    # THEN the broken record is in the dead-letter queue, reported on every attempt,
    # and both bookings were confirmed once
    parked = dead_letters()
    assert [m["record"]["dynamodb"]["Keys"]["pk"]["S"] for m in parked] == [
        keys.appointment_pk(tenant_id, "apt_broken")
    ]
    assert len(stream.failures()) == MAX_ATTEMPTS
    assert outbox.kinds() == [
        ("confirmation", ANN),
        ("confirmation", "bob@example.test"),
        ("confirmation", DANA),
        ("confirmation", DANA),
    ]


def test_an_effect_claimed_by_an_attempt_that_crashed_is_retried_not_dropped(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN an earlier attempt claimed the client's confirmation, then its Lambda timed out
    appointment = booked(shop, massage)
    tenant_id = shop.tenant["tenant"]["id"]
    assert registry.effect_ledger().claim(tenant_id, appointment["id"], 1, "mail:confirmation:client", NOW)

    # WHEN the record is redelivered while that claim's lease is still live
    stream.flush()

    # THEN the record fails (to be retried) instead of counting the unsent mail as done
    assert len(stream.failures()) == 1
    assert outbox.messages("confirmation", ANN) == []

    # AND once the lease has lapsed, the retry sends it, once
    freeze(NOW + LEASE + timedelta(seconds=1))
    stream.flush()
    stream.flush()
    assert len(stream.failures()) == 1
    assert outbox.kinds() == [("confirmation", ANN), ("confirmation", DANA)]


# --- hold expiry -----------------------------------------------------------------------------


@pytest.fixture
def deposit_service(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Peel", durationMinutes=60, slotIntervalMinutes=60, priceCents=9000, depositCents=2000)


@pytest.fixture
def held(shop: Shop, deposit_service: dict, stream: Stream) -> dict[str, Any]:
    shop.provider([deposit_service], name="Dana")
    appointment = booked(shop, deposit_service)
    assert appointment["status"] == "pending"
    stream.flush()
    return appointment


def _hold_task() -> dict[str, Any]:
    (schedule,) = schedules().values()
    return dict(json.loads(schedule["Target"]["Input"]))


def _locks_of(shop: Shop, provider_id: str) -> list[LockItem]:
    return list(LockItem.query(keys.lock_pk(shop.tenant["tenant"]["id"], provider_id)))


def test_an_unpaid_hold_gets_one_expiry_schedule_at_hold_until(shop: Shop, held: dict, outbox: Outbox) -> None:
    found = schedules()

    assert set(found) == {f"hold-{held['id']}-v1"}
    assert found[f"hold-{held['id']}-v1"]["ScheduleExpression"] == at(held["holdUntil"])
    assert _hold_task() == {
        "task": "expire_hold",
        "tenantId": shop.tenant["tenant"]["id"],
        "appointmentId": held["id"],
        "version": 1,
    }
    assert outbox.gateway.sent == []  # a hold is not confirmed yet


def test_the_hold_expiry_task_expires_the_hold_and_frees_its_time(
    shop: Shop, held: dict, deposit_service: dict, stream: Stream
) -> None:
    task = _hold_task()
    freeze(from_iso(held["holdUntil"]) + timedelta(seconds=1))

    first = run_scheduled_task(task)
    again = run_scheduled_task(task)

    status, seen = shop.admin("GET", f"/{held['id']}")
    assert (first, again) == ({"outcome": "expired"}, {"outcome": "not_pending"})
    assert status == 200 and seen["status"] == "expired" and seen["version"] == 2
    assert _locks_of(shop, held["providerId"]) == []
    assert local(MONDAY, "10:00") in shop.slots(deposit_service)
    stream.flush()
    assert schedules() == {}


def test_the_hold_expiry_task_leaves_a_cancelled_hold_alone(shop: Shop, held: dict) -> None:
    task = _hold_task()
    status, body = shop.admin("POST", f"/{held['id']}/cancel", {})
    assert status == 200, body
    freeze(from_iso(held["holdUntil"]) + timedelta(seconds=1))

    assert run_scheduled_task(task) == {"outcome": "not_pending"}
    status, seen = shop.admin("GET", f"/{held['id']}")
    assert seen["status"] == "cancelled" and seen["version"] == 2


# --- bounces and complaints -----------------------------------------------------------------


def _ses_event(kind: str, tenant_id: str, address: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    mail = {"messageId": "m-1", "destination": [address], "tags": {"tenant": [tenant_id], "kind": ["confirmation"]}}
    if kind == "Bounce":
        return {
            "eventType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": address}]},
            "mail": mail,
        }
    return {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": address}]}, "mail": mail}


def test_a_hard_bounce_suppresses_the_address_for_that_tenant_only(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # GIVEN SES reported a permanent bounce of Ann's address for acme's mail
    other = Shop(shop.api, shop.api.open_tenant("globex"))
    other_service = other.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    other.provider([other_service], name="Gus")
    assert registry.mail_events().record(_ses_event("Bounce", shop.tenant["tenant"]["id"], "ANN@example.test")) == 1

    # WHEN Ann books at both
    acme_booking = booked(shop, massage)
    booked(other, other_service)
    stream.flush()

    # THEN acme skipped her (and recorded why) while globex still mails her
    assert outbox.kinds() == [("confirmation", ANN), ("confirmation", DANA), ("confirmation", "gus@shop.test")]
    assert outbox.one("confirmation", ANN)["From"].addresses[0].display_name == "Globex"
    details = registry.effect_ledger().details(shop.tenant["tenant"]["id"], acme_booking["id"], "client")
    assert {"outcome": "suppressed"} in details


def test_a_complaint_suppresses_and_a_soft_bounce_does_not(aws: str) -> None:
    events = registry.mail_events()

    assert events.record(_ses_event("Complaint", "tn_a", "c@example.test")) == 1
    assert events.record(_ses_event("Bounce", "tn_a", "s@example.test", bounce_type="Transient")) == 0
    assert events.record({"eventType": "Bounce", "mail": {}}) == 0  # no tenant tag: nothing to attribute

    suppressions = registry.suppression_repository()
    assert suppressions.is_suppressed("tn_a", "c@example.test")
    assert not suppressions.is_suppressed("tn_a", "s@example.test")
    assert not suppressions.is_suppressed("tn_b", "c@example.test")


# --- SMS reminders ---------------------------------------------------------------------------


def _remind_an_hour_before(shop: Shop, massage: dict, stream: Stream, phone: str | None) -> dict[str, str]:
    appointment = booked(shop, massage, client={**client(), "phone": phone})
    stream.flush()
    freeze(from_iso(local(MONDAY, "09:00")))
    return run_scheduled_task(reminder(shop, appointment, 60))


def test_an_sms_reminder_goes_to_the_normalised_number_when_the_tenant_enabled_sms(
    shop: Shop, massage: dict, dana: dict, sms: InMemorySmsGateway, stream: Stream
) -> None:
    shop.settings(smsEnabled=True)

    assert _remind_an_hour_before(shop, massage, stream, "+1 (212) 555-0100") == {"outcome": "sent"}

    ((number, text),) = sms.sent
    assert number == "+12125550100"
    assert "Acme" in text and "Massage" in text and "STOP" in text


def test_no_sms_when_the_tenant_has_not_enabled_it(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, sms: InMemorySmsGateway, stream: Stream
) -> None:
    assert _remind_an_hour_before(shop, massage, stream, "+12125550100") == {"outcome": "sent"}

    assert sms.sent == []
    assert outbox.kinds().count(("reminder", ANN)) == 1


def test_an_opted_out_number_gets_no_sms_but_the_mail_still_goes(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, sms: InMemorySmsGateway, stream: Stream
) -> None:
    shop.settings(smsEnabled=True)
    sms.opted_out.add("+12125550100")

    assert _remind_an_hour_before(shop, massage, stream, "+1 212 555 0100") == {"outcome": "sent"}

    assert sms.sent == []
    assert outbox.kinds().count(("reminder", ANN)) == 1


def test_a_number_that_is_not_e164_gets_no_sms(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, sms: InMemorySmsGateway, stream: Stream
) -> None:
    shop.settings(smsEnabled=True)

    assert _remind_an_hour_before(shop, massage, stream, "555-0100") == {"outcome": "sent"}

    assert sms.sent == []
    assert outbox.kinds().count(("reminder", ANN)) == 1


def test_no_sms_when_the_client_gave_no_phone(
    shop: Shop, massage: dict, dana: dict, sms: InMemorySmsGateway, stream: Stream
) -> None:
    shop.settings(smsEnabled=True)

    assert _remind_an_hour_before(shop, massage, stream, None) == {"outcome": "sent"}

    assert sms.sent == []


def test_a_client_name_with_a_line_break_cannot_inject_headers_or_block_the_stream(
    shop: Shop, massage: dict, dana: dict, outbox: Outbox, stream: Stream
) -> None:
    # The API refuses such a name (400); one stored before it did must still be harmless here.
    name = "Ann\r\nBcc: victim@example.test"
    assert shop.book(massage, local(MONDAY, "10:00"), client={**client(), "name": name})[0] == 400
    request = NewBooking.model_validate(shop.booking(massage, local(MONDAY, "10:00"))).to_domain()
    tenant = registry.tenant_repository().get(shop.tenant["tenant"]["id"])
    registry.booking_service().book(tenant, replace(request, client=replace(request.client, name=name)))

    stream.flush()

    assert stream.failures() == []
    mail = outbox.one("confirmation", ANN)
    assert "Bcc" not in mail
    assert mail["To"].addresses[0].addr_spec == ANN
