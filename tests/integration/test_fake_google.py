"""The fake Google, driven by the real google-auth and google-api-python-client (no network)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from infra.local.fake_google import OWNER_TOKEN, FakeGoogle

EMAIL = "dana@acme.test"
REDIRECT = "http://127.0.0.1:1/oauth/google/callback"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as running:
        yield running


@pytest.fixture(autouse=True)
def clean(fake: FakeGoogle) -> None:
    fake.reset()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _authorize_url(fake: FakeGoogle, challenge: str, state: str = "state-1") -> str:
    params = {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "https://www.googleapis.com/auth/calendar.events",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
    }
    return fake.authorize_uri + "?" + urlencode(params)


def _exchange(fake: FakeGoogle, code: str, verifier: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "redirect_uri": REDIRECT,
    }
    return requests.post(fake.token_uri, data=form, timeout=10)


def _connect(fake: FakeGoogle, email: str = EMAIL) -> Credentials:
    verifier, challenge = _pkce()
    location = fake.consent(_authorize_url(fake, challenge), email)
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = _exchange(fake, code, verifier).json()
    return Credentials(
        None,
        refresh_token=tokens["refresh_token"],
        token_uri=fake.token_uri,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )


def _calendar(fake: FakeGoogle, credentials: Credentials) -> Any:
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": fake.calendar_endpoint},
    )


def _event(event_id: str | None = None, start: str = "2027-03-15T14:00:00Z", end: str = "2027-03-15T15:00:00Z") -> Any:
    body: dict[str, Any] = {"summary": "Haircut", "start": {"dateTime": start}, "end": {"dateTime": end}}
    if event_id:
        body["id"] = event_id
    return body


def test_one_click_consent_returns_code_and_state_and_pkce_is_checked(fake: FakeGoogle) -> None:
    verifier, challenge = _pkce()
    location = fake.consent(_authorize_url(fake, challenge, state="s-42"), EMAIL)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and query["state"] == ["s-42"]
    wrong = _exchange(fake, query["code"][0], "not-the-verifier")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    location = fake.consent(_authorize_url(fake, challenge), EMAIL)
    right = _exchange(fake, parse_qs(urlsplit(location).query)["code"][0], verifier)
    assert right.status_code == 200 and right.json()["refresh_token"].startswith("1//")
    reused = _exchange(fake, parse_qs(urlsplit(location).query)["code"][0], verifier)
    assert reused.status_code == 400  # a code is spent once


def test_declining_consent_redirects_with_access_denied(fake: FakeGoogle) -> None:
    _, challenge = _pkce()
    location = fake.consent(_authorize_url(fake, challenge), EMAIL, allow=False)
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["state-1"]}


def test_an_insert_with_our_id_answers_409_when_replayed(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    created = service.events().insert(calendarId="primary", body=_event("appt0123456789")).execute()
    for _ in range(4):
        with pytest.raises(HttpError) as replay:
            service.events().insert(calendarId="primary", body=_event("appt0123456789")).execute()
        assert replay.value.resp.status == 409
    assert created["id"] == "appt0123456789"
    assert [e["id"] for e in fake.events(EMAIL)] == ["appt0123456789"]


def test_an_id_outside_base32hex_is_refused(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    with pytest.raises(HttpError) as refused:
        service.events().insert(calendarId="primary", body=_event("Not_Base32hex!")).execute()
    assert refused.value.resp.status == 400


def test_incremental_list_returns_changes_and_deletions_then_410_after_invalidation(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    service.events().insert(calendarId="primary", body=_event("first0001")).execute()
    full = service.events().list(calendarId="primary", singleEvents=True).execute()
    assert [e["id"] for e in full["items"]] == ["first0001"] and "nextSyncToken" in full

    service.events().patch(calendarId="primary", eventId="first0001", body={"summary": "Moved"}).execute()
    service.events().insert(calendarId="primary", body=_event("second0002")).execute()
    service.events().delete(calendarId="primary", eventId="first0001").execute()
    changes = service.events().list(calendarId="primary", syncToken=full["nextSyncToken"]).execute()
    assert {(e["id"], e["status"]) for e in changes["items"]} == {
        ("first0001", "cancelled"),
        ("second0002", "confirmed"),
    }

    nothing = service.events().list(calendarId="primary", syncToken=changes["nextSyncToken"]).execute()
    assert nothing["items"] == []
    fake.invalidate_sync_tokens(EMAIL)
    with pytest.raises(HttpError) as gone:
        service.events().list(calendarId="primary", syncToken=nothing["nextSyncToken"]).execute()
    assert gone.value.resp.status == 410 and gone.value.error_details[0]["reason"] == "fullSyncRequired"


def test_sync_token_with_time_min_is_a_bad_request(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as bad:
        service.events().list(calendarId="primary", syncToken=token, timeMin="2027-01-01T00:00:00Z").execute()
    assert bad.value.resp.status == 400


def test_list_pages_and_the_sync_token_comes_with_the_last_page(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    for n in range(5):
        service.events().insert(calendarId="primary", body=_event(f"page000{n}")).execute()
    seen: list[str] = []
    page_token = None
    while True:
        page = service.events().list(calendarId="primary", maxResults=2, pageToken=page_token).execute()
        seen += [e["id"] for e in page["items"]]
        page_token = page.get("nextPageToken")
        if not page_token:
            assert "nextSyncToken" in page
            break
        assert "nextSyncToken" not in page
    assert seen == [f"page000{n}" for n in range(5)]


def test_an_expired_access_token_is_refreshed_by_the_client(fake: FakeGoogle) -> None:
    credentials = _connect(fake)
    service = _calendar(fake, credentials)
    service.events().list(calendarId="primary").execute()
    first = credentials.token
    fake.expire_access_tokens()
    service.events().list(calendarId="primary").execute()
    assert credentials.token != first


def test_a_revoked_grant_refreshes_with_invalid_grant(fake: FakeGoogle) -> None:
    credentials = _connect(fake)
    assert fake.revoke_grants(EMAIL) == 1
    with pytest.raises(RefreshError) as refused:
        credentials.refresh(Request())
    assert "invalid_grant" in str(refused.value)


def test_revoke_endpoint_ends_the_grant(fake: FakeGoogle) -> None:
    credentials = _connect(fake)
    assert requests.post(fake.revoke_uri, data={"token": credentials.refresh_token}, timeout=10).status_code == 200
    assert fake.grants(EMAIL) == [
        {"email": EMAIL, "revoked": True, "scope": "https://www.googleapis.com/auth/calendar.events"}
    ]


def test_injected_failures_answer_in_googles_shape(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    fake.fail_next("GET", "/calendar/", 429)
    with pytest.raises(HttpError) as limited:
        service.events().list(calendarId="primary").execute()
    assert limited.value.resp.status == 429 and limited.value.error_details[0]["reason"] == "rateLimitExceeded"
    fake.fail_next("GET", "/calendar/", 503)
    with pytest.raises(HttpError) as down:
        service.events().list(calendarId="primary").execute()
    assert down.value.resp.status == 503
    assert service.events().list(calendarId="primary").execute()["items"] == []


def test_the_owner_token_edits_any_calendar_over_http(fake: FakeGoogle) -> None:
    service = _calendar(fake, _connect(fake))
    headers = {"Authorization": f"Bearer {OWNER_TOKEN}", "Content-Type": "application/json"}
    base = f"{fake.calendar_endpoint}calendars/{EMAIL}/events"
    made = requests.post(base, data=json.dumps(_event()), headers=headers, timeout=10).json()
    assert [e["id"] for e in service.events().list(calendarId="primary").execute()["items"]] == [made["id"]]
    moved = {"start": {"dateTime": "2027-03-15T16:00:00Z"}, "end": {"dateTime": "2027-03-15T17:00:00Z"}}
    assert requests.patch(f"{base}/{made['id']}", data=json.dumps(moved), headers=headers, timeout=10).ok
    assert requests.delete(f"{base}/{made['id']}", headers=headers, timeout=10).status_code == 204
    assert fake.events(EMAIL) == []
    other = requests.get(base, headers={"Authorization": "Bearer nobody"}, timeout=10)
    assert other.status_code == 401


class _Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                self.received.append({k.lower(): v for k, v in handler.headers.items()})
                handler.send_response(200)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_watch_pushes_sync_then_changes_with_token_and_resource_id_until_stopped(fake: FakeGoogle) -> None:
    receiver = _Receiver()
    threading.Thread(target=receiver.serve_forever, args=(0.05,), daemon=True).start()
    try:
        service = _calendar(fake, _connect(fake))
        address = f"http://127.0.0.1:{receiver.server_address[1]}/v1/webhooks/google-calendar"
        channel = (
            service.events()
            .watch(
                calendarId="primary",
                body={"id": "chan-1", "type": "web_hook", "address": address, "token": "secret-tok"},
            )
            .execute()
        )
        service.events().insert(calendarId="primary", body=_event("seen00001")).execute()
        assert fake.flush()
        states = [
            (r["x-goog-resource-state"], r["x-goog-channel-token"], r["x-goog-resource-id"]) for r in receiver.received
        ]
        assert states == [
            ("sync", "secret-tok", channel["resourceId"]),
            ("exists", "secret-tok", channel["resourceId"]),
        ]
        service.channels().stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
        fake.insert_event(EMAIL, _event("unseen0001"))
        assert fake.flush() and len(receiver.received) == 2
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_discovery_document_is_served_locally(fake: FakeGoogle) -> None:
    with urllib.request.urlopen(f"{fake.url}/discovery/v1/apis/calendar/v3/rest", timeout=10) as answer:
        document = json.load(answer)
    assert document["rootUrl"] == fake.url + "/" and "events" in document["resources"]
