"""The pure part of the Google Calendar sync: event ids, what blocks time, pieces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.calendar_sync import (
    EVENT_ID,
    appointment_id_of_event_id,
    busy_interval,
    event_id_for,
    pieces,
)
from chalicelib.domain.ids import new_id

ZONE = "America/New_York"


def _timed(start: str, end: str, **fields: object) -> dict[str, object]:
    return {"id": "external1", "start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


@given(st.integers(min_value=1, max_value=40))
def test_event_ids_are_base32hex_and_lead_back_to_the_appointment(length: int) -> None:
    appointment_id = new_id("apt_", length)
    event_id = event_id_for(appointment_id)
    assert EVENT_ID.fullmatch(event_id)
    assert appointment_id_of_event_id(event_id) == appointment_id


def test_someone_elses_event_id_is_not_ours() -> None:
    assert appointment_id_of_event_id("4n8kq2vb1c3d") is None
    assert appointment_id_of_event_id("not base32!") is None


def test_an_opaque_timed_event_blocks_exactly_its_time() -> None:
    assert busy_interval(_timed("2027-03-15T10:00:00-04:00", "2027-03-15T11:00:00-04:00"), ZONE, None) == (
        datetime(2027, 3, 15, 14, tzinfo=UTC),
        datetime(2027, 3, 15, 15, tzinfo=UTC),
    )


def test_transparent_cancelled_declined_and_own_events_block_nothing() -> None:
    base = ("2027-03-15T10:00:00Z", "2027-03-15T11:00:00Z")
    assert busy_interval(_timed(*base, transparency="transparent"), ZONE, None) is None
    assert busy_interval(_timed(*base, status="cancelled"), ZONE, None) is None
    declined = [{"email": "dana@shop.test", "responseStatus": "declined"}]
    assert busy_interval(_timed(*base, attendees=declined), ZONE, "dana@shop.test") is None
    accepted = [{"email": "dana@shop.test", "responseStatus": "accepted"}]
    assert busy_interval(_timed(*base, attendees=accepted), ZONE, "dana@shop.test") is not None
    own = {"private": {"appointmentId": "apt_abc"}}
    assert busy_interval(_timed(*base, extendedProperties=own), ZONE, None) is None


def test_an_all_day_event_blocks_the_providers_local_day_across_a_dst_change() -> None:
    event = {"id": "holiday1", "start": {"date": "2027-03-14"}, "end": {"date": "2027-03-15"}}
    start, end = busy_interval(event, ZONE, None) or (None, None)
    assert start == datetime(2027, 3, 14, 5, tzinfo=UTC)  # EST midnight
    assert end == datetime(2027, 3, 15, 4, tzinfo=UTC)  # EDT midnight: a 23-hour day


@given(
    st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=60 * 24 * 10),
)
def test_pieces_cover_the_block_and_each_lies_within_one_utc_day(start: datetime, minutes: int) -> None:
    end = start + timedelta(minutes=minutes)
    cut = pieces(start, end)
    assert cut[0][0] == start and cut[-1][1] == end
    assert all(a[1] == b[0] for a, b in pairwise(cut))
    assert all(
        high - low <= timedelta(days=1) and low.date() == (high - timedelta(microseconds=1)).date() for low, high in cut
    )
