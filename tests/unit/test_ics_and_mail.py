"""What a notification is made of: the RFC 5545 invitation, the jinja2 text and HTML, and the
raw MIME message SES sends."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import vText

from chalicelib.domain.ics import MAX_LINE_OCTETS, CalendarEvent, fold, render_ics
from chalicelib.services.mail_content import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    REFUND_ARRIVAL,
    Audience,
    MailContent,
    MailFacts,
    MailKind,
    RefundNote,
    render_mail,
)
from chalicelib.services.mime import build_message

NEW_YORK = ZoneInfo("America/New_York")
EVENT = CalendarEvent(
    uid="apt_1@acme.scheduling",
    sequence=1,
    start=datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK),
    end=datetime(2027, 3, 15, 11, 0, tzinfo=NEW_YORK),
    stamp=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
    summary="Massage with Dana",
    description="Booked with Acme.",
    organizer_name="Acme",
    organizer_email="owner@acme.test",
    attendee_name="Ann",
    attendee_email="ann@example.test",
    url="https://book.example/manage/apt_1?token=abc",
)


def parsed(ics: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def physical_lines(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    return ics[: -len("\r\n")].split("\r\n")


def assert_rfc5545_lines(ics: str) -> None:
    for line in physical_lines(ics):
        assert "\r" not in line and "\n" not in line, repr(line)  # CRLF is the only line end
        assert len(line.encode("utf-8")) <= MAX_LINE_OCTETS, line


# --- the invitation ----------------------------------------------------------------------------


def test_an_invitation_parses_with_a_stable_uid_its_sequence_and_utc_times() -> None:
    calendar, event = parsed(render_ics(replace(EVENT, sequence=3)))

    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert event["UID"] == "apt_1@acme.scheduling"
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == datetime(2027, 3, 15, 15, 0, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert str(event["URL"]) == EVENT.url
    assert str(event["ORGANIZER"]) == "mailto:owner@acme.test"
    assert event["ATTENDEE"].params["CN"] == "Ann"


def test_times_are_written_in_utc_with_a_z_not_with_a_zone() -> None:
    ics = render_ics(EVENT)

    assert "DTSTART:20270315T140000Z\r\n" in ics
    assert "DTEND:20270315T150000Z\r\n" in ics
    assert "TZID" not in ics


def test_a_cancellation_is_method_cancel_with_the_same_uid_and_status_cancelled() -> None:
    calendar, event = parsed(render_ics(replace(EVENT, sequence=4, cancelled=True)))

    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == EVENT.uid
    assert event["SEQUENCE"] == 4


def test_text_escapes_commas_semicolons_backslashes_and_newlines_and_parses_back() -> None:
    summary = "Cut, colour; style \\ finish"
    description = "Line one\nLine two, with a comma\r\nLine three; end"

    ics = render_ics(replace(EVENT, summary=summary, description=description))
    _, event = parsed(ics)

    assert "SUMMARY:Cut\\, colour\\; style \\\\ finish\r\n" in ics
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == "Line one\nLine two, with a comma\nLine three; end"


@pytest.mark.parametrize("line_break", ["\r", "\n", "\r\n", "\u2028", "\x85", "\x0b", "\x0c"])
def test_any_line_break_a_client_typed_becomes_an_escaped_newline_not_a_bare_line_end(line_break: str) -> None:
    ics = render_ics(replace(EVENT, description=f"before{line_break}after", attendee_name=f"Ann{line_break}Lee"))
    _, event = parsed(ics)

    assert_rfc5545_lines(ics)
    assert str(event["DESCRIPTION"]) == "before\nafter"
    assert event["ATTENDEE"].params["CN"] == "Ann Lee"


def test_control_characters_are_dropped_from_text_and_parameters() -> None:
    ics = render_ics(replace(EVENT, summary="Mass\x00age\x07", organizer_name='Acme "Spa"\x1f'))
    _, event = parsed(ics)

    assert str(event["SUMMARY"]) == "Massage"
    assert event["ORGANIZER"].params["CN"] == "Acme 'Spa'"


def test_long_lines_fold_at_75_octets_without_splitting_a_multibyte_character() -> None:
    # 2-, 3- and 4-byte characters; a split one would not decode (the str holds whole ones)
    summary = "Soins é " + "日本語のマッサージ" * 12 + " 💆" * 20
    description = "x" * 300

    ics = render_ics(replace(EVENT, summary=summary, description=description))
    _, event = parsed(ics)

    assert_rfc5545_lines(ics)
    assert any(line.startswith(" ") for line in physical_lines(ics))
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description
    assert all(line.encode("utf-8").decode("utf-8") == line for line in physical_lines(ics))


def test_a_line_of_exactly_75_octets_is_not_folded_and_76_is() -> None:
    exactly = "X" * MAX_LINE_OCTETS
    one_more = "X" * (MAX_LINE_OCTETS + 1)

    assert fold(exactly) == exactly
    assert fold(one_more) == "X" * MAX_LINE_OCTETS + "\r\n X"


def test_a_fold_never_leaves_a_continuation_over_75_octets_with_its_leading_space() -> None:
    folded = fold("é" * 200)  # 400 octets of two-byte characters

    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= MAX_LINE_OCTETS for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(part[1:] if i else part for i, part in enumerate(parts)) == "é" * 200


@settings(max_examples=150, deadline=None)
@given(summary=st.text(max_size=200), name=st.text(max_size=80))
def test_any_text_round_trips_through_icalendar_within_the_line_rules(summary: str, name: str) -> None:
    ics = render_ics(replace(EVENT, summary=summary, attendee_name=name))
    _, event = parsed(ics)

    assert_rfc5545_lines(ics)
    assert event["UID"] == EVENT.uid
    # Escaped exactly as icalendar itself writes the same text ...
    unfolded = ics.replace("\r\n ", "")
    (line,) = [ln for ln in unfolded.split("\r\n") if ln.startswith("SUMMARY:")]
    assert line[len("SUMMARY:") :] == vText(_as_written(summary)).to_ical().decode("utf-8")
    # ... and read back intact, except where icalendar's reader cannot read its own writing:
    # it turns the escaped pair "\\\\\\," (a backslash before a comma) into a bare comma.
    if "\\" not in summary:
        assert _visible(str(event.get("SUMMARY", ""))) == _visible(summary)


def _as_written(text: str) -> str:
    """The text an .ics can carry: every line break one newline, other control characters gone."""
    lines = re.split("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]", text)
    return "\n".join(re.sub("[\x00-\x08\x0e-\x1f\x7f]", "", line) for line in lines)


def _visible(text: str) -> str:
    """Text without line breaks and RFC 5545 CONTROL characters (%x00-08, %x0A-1F, %x7F)."""
    return "".join(c for c in text if c == "\t" or not (ord(c) < 0x20 or c in "\x7f\x85\u2028\u2029"))


# --- the mail text -------------------------------------------------------------------------------


def _render(kind: MailKind, audience: Audience = Audience.CLIENT, **overrides: Any) -> MailContent:
    fields: dict[str, Any] = {
        "tenant_name": "Acme Spa",
        "branding": {"primaryColor": "#112233", "accentColor": "#445566"},
        "recipient_name": "Ann",
        "service_name": "Massage",
        "provider_name": "Dana",
        "when": "Mon 15 Mar 2027, 10:00 EDT",
        "client_name": "Ann Lee",
        "client_email": "ann@example.test",
        "client_phone": "+1 555 0100",
        "intake": (("Allergies", "nuts"), ("First visit", "yes")),
        "manage_url": "https://book.example/manage/apt_1?token=abc&x=1",
        "reason": None,
    }
    fields.update(overrides)
    return render_mail(kind, audience, MailFacts(**fields))


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (MailKind.CONFIRMATION, "Confirmed: Massage on Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.RESCHEDULE, "Moved: Massage is now on Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.CANCELLATION, "Cancelled: Massage on Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.REMINDER, "Reminder: Massage on Mon 15 Mar 2027, 10:00 EDT"),
    ],
)
def test_each_kind_has_its_subject_and_says_what_when_and_with_whom(kind: MailKind, subject: str) -> None:
    content = _render(kind)

    assert content.subject == subject
    for part in (content.text, content.html):
        assert "Massage" in part and "Mon 15 Mar 2027, 10:00 EDT" in part and "Dana" in part and "Acme Spa" in part


@pytest.mark.parametrize("kind", list(MailKind))
def test_names_and_reasons_people_typed_are_escaped_in_the_html(kind: MailKind) -> None:
    content = _render(
        kind,
        recipient_name="<script>alert(1)</script>",
        service_name='Mass"age <b>',
        provider_name="Dana & Co",
        tenant_name="<img src=x>",
        reason="<i>ill</i>",
    )

    assert "<script>" not in content.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert "<img src=x>" not in content.html and "&lt;img src=x&gt;" in content.html
    assert "<b>" not in content.html and "Dana &amp; Co" in content.html
    assert "<script>alert(1)</script>" in content.text  # plain text is not HTML: shown as typed


def test_a_cancellation_gives_the_reason_escaped() -> None:
    content = _render(MailKind.CANCELLATION, reason="<i>Provider ill</i>")

    assert "&lt;i&gt;Provider ill&lt;/i&gt;" in content.html
    assert "Reason: <i>Provider ill</i>" in content.text


def test_the_html_uses_the_tenants_colours() -> None:
    content = _render(MailKind.CONFIRMATION)

    assert "background:#112233" in content.html
    assert "background:#445566" in content.html
    assert DEFAULT_PRIMARY not in content.html and DEFAULT_ACCENT not in content.html


def test_without_branding_the_default_colours_are_used() -> None:
    content = _render(MailKind.REMINDER, branding={})

    assert f"background:{DEFAULT_PRIMARY}" in content.html
    assert f"background:{DEFAULT_ACCENT}" in content.html


def test_the_manage_link_appears_only_when_there_is_one() -> None:
    with_link = _render(MailKind.CONFIRMATION)
    without = _render(MailKind.CONFIRMATION, manage_url=None)

    assert 'href="https://book.example/manage/apt_1?token=abc&amp;x=1"' in with_link.html
    assert "https://book.example/manage/apt_1?token=abc&x=1" in with_link.text
    assert "/manage/" not in without.html and "/manage/" not in without.text


# --- the provider's mail --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (MailKind.CONFIRMATION, "New booking: Ann Lee \N{EM DASH} Massage at Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.RESCHEDULE, "Moved: Ann Lee \N{EM DASH} Massage now at Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.CANCELLATION, "Cancelled: Ann Lee \N{EM DASH} Massage at Mon 15 Mar 2027, 10:00 EDT"),
        (MailKind.REMINDER, "Reminder: Ann Lee \N{EM DASH} Massage at Mon 15 Mar 2027, 10:00 EDT"),
    ],
)
def test_the_providers_mail_is_about_the_client(kind: MailKind, subject: str) -> None:
    content = _render(kind, Audience.PROVIDER, recipient_name="Dana")

    assert content.subject == subject
    for part in (content.text, content.html):
        assert "Hello Dana" in part and "Ann Lee" in part
        assert "ann@example.test" in part and "+1 555 0100" in part
        assert "Allergies" in part and "nuts" in part and "First visit" in part
        assert "Massage" in part and "Mon 15 Mar 2027, 10:00 EDT" in part
        assert "Hello Ann" not in part and "With:" not in part and ">With<" not in part
    assert "Allergies: nuts" in content.text and "Client: Ann Lee" in content.text


def test_intake_answers_the_client_typed_are_escaped_in_the_providers_html() -> None:
    content = _render(MailKind.CONFIRMATION, Audience.PROVIDER, intake=(("Notes", "<script>x</script>"),))

    assert "<script>" not in content.html and "&lt;script&gt;x&lt;/script&gt;" in content.html
    assert "Notes: <script>x</script>" in content.text


@pytest.mark.parametrize("kind", list(MailKind))
def test_the_providers_mail_never_carries_the_clients_manage_link(kind: MailKind) -> None:
    content = _render(kind, Audience.PROVIDER, recipient_name="Dana")

    for part in (content.text, content.html):
        assert "/manage/" not in part and "token=" not in part and "Reschedule or cancel" not in part


def test_the_clients_mail_does_not_list_the_intake_back_to_them_but_links_to_manage() -> None:
    content = _render(MailKind.CONFIRMATION)

    for part in (content.text, content.html):
        assert "Hello Ann" in part and "Allergies" not in part
    assert "Reschedule or cancel: https://book.example/manage/apt_1?token=abc&x=1" in content.text


def test_a_reschedule_shows_the_former_time_to_both() -> None:
    for audience in Audience:
        content = _render(MailKind.RESCHEDULE, audience, previous_when="Mon 15 Mar 2027, 09:00 EDT")
        assert "Was: Mon 15 Mar 2027, 09:00 EDT" in content.text
        assert "Mon 15 Mar 2027, 09:00 EDT" in content.html


REFUNDED = RefundNote(paid="$100.00", refunded="$50.00", by_policy=False)


@pytest.mark.parametrize("audience", list(Audience))
def test_a_cancellation_states_the_refund_and_when_it_arrives(audience: Audience) -> None:
    content = _render(MailKind.CANCELLATION, audience, refund=REFUNDED)

    whom = "You get" if audience is Audience.CLIENT else "The client gets"
    for part in (content.text, content.html):
        assert f"{whom} $50.00 back of the $100.00 paid." in part
        assert REFUND_ARRIVAL in part and "5-10 business days" in part


def test_a_cancellation_the_policy_refunds_nothing_says_so() -> None:
    content = _render(MailKind.CANCELLATION, refund=RefundNote(paid="$20.00", refunded=None, by_policy=True))

    for part in (content.text, content.html):
        assert "No refund is due under the cancellation policy (paid: $20.00)." in part
        assert REFUND_ARRIVAL not in part


def test_a_cancellation_of_an_unpaid_booking_says_nothing_is_refunded() -> None:
    content = _render(MailKind.CANCELLATION, refund=RefundNote(paid=None, refunded=None, by_policy=False))

    assert "No payment was taken, so there is nothing to refund." in content.text
    assert REFUND_ARRIVAL not in content.text


def test_the_client_link_in_a_cancellation_only_offers_to_see_the_booking() -> None:
    content = _render(MailKind.CANCELLATION)

    assert "See your booking: https://book.example/manage/apt_1?token=abc&x=1" in content.text
    assert "Reschedule or cancel" not in content.text and "Reschedule or cancel" not in content.html


# --- the MIME message -----------------------------------------------------------------------------


def _message(ics: str | None, method: str = "REQUEST", **overrides: str) -> EmailMessage:
    fields = {
        "sender_name": "Acme Spa",
        "sender": "no-reply@scheduling.local.test",
        "recipient_name": "Ann",
        "recipient": "ann@example.test",
        "reply_to": "owner@acme.test",
        **overrides,
    }
    raw = build_message(content=_render(MailKind.CONFIRMATION), ics=ics, ics_method=method, **fields)  # type: ignore[arg-type]
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_message_with_an_invitation_is_mixed_text_html_and_a_calendar_with_its_method() -> None:
    ics = render_ics(EVENT)

    message = _message(ics)

    assert message.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    (calendar,) = list(message.iter_attachments())
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "invite.ics"
    assert calendar.get_payload(decode=True) == ics.encode("utf-8")  # CRLFs survive transport encoding
    assert message["Reply-To"] == "owner@acme.test"
    assert message["From"].addresses[0].display_name == "Acme Spa"
    assert message["Message-ID"]


def test_a_cancellation_message_carries_method_cancel() -> None:
    ics = render_ics(replace(EVENT, cancelled=True))

    (calendar,) = list(_message(ics, "CANCEL").iter_attachments())

    assert calendar.get_param("method") == "CANCEL"
    assert calendar.get_filename() == "cancel.ics"
    assert "METHOD:CANCEL" in calendar.get_content()


def test_a_reminder_without_an_invitation_is_just_text_and_html() -> None:
    message = _message(None)

    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


def test_non_ascii_names_and_subjects_are_encoded_and_read_back() -> None:
    message = _message(None, sender_name="Café Zoë", recipient_name="Łukasz Żółw")

    assert message["From"].addresses[0].display_name == "Café Zoë"
    assert message["To"].addresses[0].display_name == "Łukasz Żółw"


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r", "\u2028"])
def test_a_line_break_in_a_name_cannot_inject_a_header(line_break: str) -> None:
    message = _message(None, recipient_name=f"Ann{line_break}Bcc: victim@example.test")

    assert "Bcc" not in message
    assert message["To"].addresses[0].addr_spec == "ann@example.test"
    assert message["To"].addresses[0].display_name == "Ann Bcc: victim@example.test"


def test_the_invitation_is_the_same_whatever_zone_its_instants_are_given_in() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    in_tokyo = replace(EVENT, start=EVENT.start.astimezone(tokyo), end=EVENT.end.astimezone(tokyo))

    assert render_ics(in_tokyo) == render_ics(EVENT)
