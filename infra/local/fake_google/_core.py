"""The fake's state and rules: OAuth grants, calendars with sync sequence numbers, channels.

Flat and in memory. Every change to a calendar takes the next sequence number of that
calendar; a sync token is (calendar, epoch, sequence), so an incremental list returns what
changed after it, deleted events included, and `invalidate_sync_tokens` bumps the epoch so
every older token answers 410 Gone, as Google does when it wants a full sync.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
OWNER_TOKEN = "fake-google-owner"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
DEFAULT_CHANNEL_SECONDS = 7 * 24 * 3600
MAX_CHANNEL_SECONDS = 30 * 24 * 3600
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class GoogleError(Exception):
    """An answer in Google's JSON error shape (Calendar) or OAuth's (`oauth=True`)."""

    def __init__(self, status: int, reason: str, message: str, *, oauth: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.oauth = oauth

    def body(self) -> Json:
        if self.oauth:
            return {"error": self.reason, "error_description": self.message}
        domain = "calendar" if self.reason == "fullSyncRequired" else "global"
        if self.reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            domain = "usageLimits"
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"domain": domain, "reason": self.reason, "message": self.message}],
                "status": _STATUS_NAMES.get(self.status, "UNKNOWN"),
            }
        }


@dataclass
class Failure:
    method: str
    path_prefix: str
    error: GoogleError
    times: int


@dataclass
class Calendar:
    id: str
    epoch: int = 0
    seq: int = 0
    events: dict[str, Json] = field(default_factory=dict)


@dataclass
class Grant:
    email: str
    client_id: str
    scope: str
    refresh_token: str
    revoked: bool = False


def rfc3339(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(value: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> Json | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _instant(value: Json | None, end: bool) -> datetime | None:
    """An event boundary as an aware instant (an all-day date counts from UTC midnight here)."""
    if not value:
        return None
    if value.get("dateTime"):
        return datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    if value.get("date"):
        return datetime.fromisoformat(str(value["date"])).replace(tzinfo=UTC)
    return None


def _query_instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GoogleError(400, "badRequest", f"Bad Request: invalid time {text!r}") from exc
    if parsed.tzinfo is None:
        raise GoogleError(400, "badRequest", "Bad Request: time needs an offset")
    return parsed


class Core:
    def __init__(self, client_id: str, client_secret: str, clock: Callable[[], float], notify: Callable[..., None]):
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.notify = notify  # (channel, state, number) -> None: hands a push notification to the deliverer
        self.lock = threading.RLock()
        self.access_token_seconds = 3600
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.codes: dict[str, Json] = {}
            self.grants: dict[str, Grant] = {}  # by refresh token
            self.access: dict[str, Json] = {}  # access token -> {email, expires, refresh}
            self.calendars: dict[str, Calendar] = {}
            self.channels: dict[str, Json] = {}
            self.failures: list[Failure] = []
            self.requests: list[Json] = []
            self.calls_per_minute: int | None = None  # a per-user quota answering 403 rateLimitExceeded
            self._calls: dict[str, list[float]] = {}

    # --- failures -----------------------------------------------------------------------------

    def take_failure(self, method: str, path: str) -> GoogleError | None:
        with self.lock:
            for failure in self.failures:
                if failure.method in ("*", method) and path.startswith(failure.path_prefix):
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                    return failure.error
        return None

    def count_call(self, email: str) -> None:
        if self.calls_per_minute is None:
            return
        now = self.clock()
        recent = [t for t in self._calls.get(email, []) if t > now - 60]
        if len(recent) >= self.calls_per_minute:
            self._calls[email] = recent
            raise GoogleError(403, "rateLimitExceeded", "Rate Limit Exceeded")
        recent.append(now)
        self._calls[email] = recent

    # --- OAuth --------------------------------------------------------------------------------

    def check_authorize(self, params: dict[str, str]) -> None:
        if params.get("client_id") != self.client_id:
            raise GoogleError(400, "invalid_client", "The OAuth client was not found.", oauth=True)
        if params.get("response_type") != "code":
            raise GoogleError(400, "unsupported_response_type", "response_type must be code", oauth=True)
        if not params.get("redirect_uri"):
            raise GoogleError(400, "invalid_request", "Missing required parameter: redirect_uri", oauth=True)
        method = params.get("code_challenge_method", "plain")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            raise GoogleError(400, "invalid_request", "Invalid code_challenge_method", oauth=True)

    def grant_code(self, params: dict[str, str], email: str) -> str:
        """The one click on the consent page: an authorization code for `email`'s calendar."""
        self.check_authorize(params)
        code = "4/" + secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "challenge": params.get("code_challenge"),
                "method": params.get("code_challenge_method", "plain"),
                "scope": params.get("scope", ""),
                "email": email,
                "expires": self.clock() + 600,
            }
            self.calendar(email)
        return code

    def token(self, form: dict[str, str]) -> Json:
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise GoogleError(401, "invalid_client", "Unauthorized", oauth=True)
        kind = form.get("grant_type")
        with self.lock:
            if kind == "authorization_code":
                return self._exchange(form)
            if kind == "refresh_token":
                grant = self.grants.get(form.get("refresh_token", ""))
                if grant is None or grant.revoked:
                    raise GoogleError(400, "invalid_grant", "Token has been expired or revoked.", oauth=True)
                return self._access_token(grant)
        raise GoogleError(400, "unsupported_grant_type", f"Invalid grant_type: {kind}", oauth=True)

    def _exchange(self, form: dict[str, str]) -> Json:
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or code["expires"] <= self.clock():
            raise GoogleError(400, "invalid_grant", "Malformed auth code.", oauth=True)
        if form.get("redirect_uri") != code["redirect_uri"]:
            raise GoogleError(400, "redirect_uri_mismatch", "Bad Request", oauth=True)
        if code["challenge"]:
            verifier = form.get("code_verifier", "")
            if code["method"] == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                derived = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                derived = verifier
            if not verifier or not secrets.compare_digest(derived, code["challenge"]):
                raise GoogleError(400, "invalid_grant", "Invalid code verifier.", oauth=True)
        grant = Grant(code["email"], code["client_id"], code["scope"], "1//" + secrets.token_urlsafe(32))
        self.grants[grant.refresh_token] = grant
        answer = self._access_token(grant)
        answer["refresh_token"] = grant.refresh_token
        return answer

    def _access_token(self, grant: Grant) -> Json:
        token = "ya29." + secrets.token_urlsafe(24)
        self.access[token] = {
            "email": grant.email,
            "expires": self.clock() + self.access_token_seconds,
            "refresh": grant.refresh_token,
        }
        return {
            "access_token": token,
            "expires_in": self.access_token_seconds,
            "scope": grant.scope,
            "token_type": "Bearer",
        }

    def revoke(self, token: str) -> None:
        with self.lock:
            refresh = self.access[token]["refresh"] if token in self.access else token
            grant = self.grants.get(refresh)
            if grant is None:
                raise GoogleError(400, "invalid_token", "Token expired or revoked", oauth=True)
            grant.revoked = True
            for access in [t for t, a in self.access.items() if a["refresh"] == refresh]:
                del self.access[access]

    def user(self, authorization: str | None) -> str | None:
        """The caller's email; None for the owner (who may act on every calendar)."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        if token == OWNER_TOKEN:
            return None
        with self.lock:
            access = self.access.get(token)
            if access is None or access["expires"] <= self.clock():
                raise GoogleError(401, "authError", "Request had invalid authentication credentials.")
            grant = self.grants.get(access["refresh"])
            if grant is None or grant.revoked:
                raise GoogleError(401, "authError", "Request had invalid authentication credentials.")
            return str(access["email"])

    # --- calendars ----------------------------------------------------------------------------

    def calendar(self, calendar_id: str) -> Calendar:
        with self.lock:
            found = self.calendars.get(calendar_id)
            if found is None:
                found = self.calendars[calendar_id] = Calendar(calendar_id)
            return found

    def resolve(self, user: str | None, calendar_id: str) -> Calendar:
        if calendar_id == "primary":
            if user is None:
                raise GoogleError(404, "notFound", "Not Found (the owner names the calendar)")
            calendar_id = user
        if user is not None and calendar_id != user:
            raise GoogleError(404, "notFound", "Not Found")
        return self.calendar(calendar_id)

    def _changed(self, calendar: Calendar, event: Json) -> None:
        calendar.seq += 1
        now = self.clock()
        event["updated"] = rfc3339(now)
        event["etag"] = f'"{calendar.seq}"'
        event["_seq"] = calendar.seq
        for channel in list(self.channels.values()):
            if channel["calendarId"] == calendar.id and not channel["stopped"] and channel["expiration"] > now * 1000:
                channel["messages"] += 1
                self.notify(dict(channel), "exists", channel["messages"])

    def insert(self, user: str | None, calendar_id: str, body: Json) -> Json:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            event_id = body.get("id") or secrets.token_hex(13).translate(str.maketrans("abcdef", "ghijkl"))
            if not EVENT_ID.match(str(event_id)):
                raise GoogleError(400, "invalid", "Invalid resource id value.")
            if event_id in calendar.events:  # a cancelled event keeps its id too
                raise GoogleError(409, "duplicate", "The requested identifier already exists.")
            self._check_times(body)
            now = rfc3339(self.clock())
            event = {
                **copy.deepcopy(body),
                "kind": "calendar#event",
                "id": event_id,
                "status": body.get("status", "confirmed"),
                "created": now,
                "iCalUID": f"{event_id}@google.com",
                "sequence": 0,
                "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                "creator": {"email": user or calendar.id},
                "organizer": {"email": calendar.id, "self": True},
            }
            calendar.events[event_id] = event
            self._changed(calendar, event)
            return self.public(event)

    def get(self, user: str | None, calendar_id: str, event_id: str) -> Json:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            event = calendar.events.get(event_id)
            if event is None:
                raise GoogleError(404, "notFound", "Not Found")
            return self.public(event)

    def patch(self, user: str | None, calendar_id: str, event_id: str, body: Json, replace: bool = False) -> Json:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            event = calendar.events.get(event_id)
            if event is None:
                raise GoogleError(404, "notFound", "Not Found")
            kept = {
                name: event[name] for name in ("kind", "id", "created", "iCalUID", "htmlLink", "creator", "organizer")
            }
            updated = {**kept, **copy.deepcopy(body)} if replace else {**event, **copy.deepcopy(body)}
            if not replace and "extendedProperties" in body and "extendedProperties" in event:
                merged = copy.deepcopy(event["extendedProperties"])
                for scope, values in body["extendedProperties"].items():
                    merged.setdefault(scope, {}).update(values)
                updated["extendedProperties"] = merged
            updated["id"] = event_id
            updated["status"] = body.get("status", "confirmed" if replace else event["status"])
            self._check_times(updated)
            updated["sequence"] = int(event.get("sequence", 0)) + 1
            calendar.events[event_id] = updated
            self._changed(calendar, updated)
            return self.public(updated)

    def delete(self, user: str | None, calendar_id: str, event_id: str) -> None:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            event = calendar.events.get(event_id)
            if event is None:
                raise GoogleError(404, "notFound", "Not Found")
            if event["status"] == "cancelled":
                raise GoogleError(410, "deleted", "Resource has been deleted")
            event["status"] = "cancelled"
            self._changed(calendar, event)

    def _check_times(self, event: Json) -> None:
        start, end = _instant(event.get("start"), False), _instant(event.get("end"), True)
        if start is None or end is None:
            raise GoogleError(400, "required", "Missing end time." if start else "Missing start time.")
        if end < start:
            raise GoogleError(400, "timeRangeEmpty", "The specified time range is empty.")

    def list(self, user: str | None, calendar_id: str, query: dict[str, str]) -> Json:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            page = _decode(query["pageToken"]) if query.get("pageToken") else {}
            if page is None:
                raise GoogleError(400, "invalid", "Invalid page token value.")
            sync = query.get("syncToken")
            if sync:
                for name in ("timeMin", "timeMax", "orderBy", "q", "iCalUID", "updatedMin"):
                    if name in query:
                        raise GoogleError(400, "invalid", f"The {name} parameter cannot be used with syncToken.")
                token = _decode(sync)
                if token is None or token.get("c") != calendar.id:
                    raise GoogleError(400, "invalid", "Invalid sync token value.")
                if token.get("e") != calendar.epoch:
                    raise GoogleError(
                        410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
                    )
            snapshot = int(page.get("s", calendar.seq))
            after = int(_decode(sync)["s"]) if sync else 0  # type: ignore[index]
            chosen = [e for e in calendar.events.values() if after < e["_seq"] <= snapshot]
            if not sync:
                if query.get("showDeleted") != "true":
                    chosen = [e for e in chosen if e["status"] != "cancelled"]
                low = _query_instant(query["timeMin"]) if query.get("timeMin") else None
                high = _query_instant(query["timeMax"]) if query.get("timeMax") else None
                chosen = [
                    e
                    for e in chosen
                    if (low is None or (_instant(e.get("end"), True) or low) > low)
                    and (high is None or (_instant(e.get("start"), False) or high) < high)
                ]
            chosen.sort(key=lambda e: (e["_seq"], e["id"]))
            size = min(int(query.get("maxResults", "250")), 2500)
            offset = int(page.get("o", 0))
            items = chosen[offset : offset + size]
            answer: Json = {
                "kind": "calendar#events",
                "summary": calendar.id,
                "updated": rfc3339(self.clock()),
                "timeZone": "UTC",
                "items": [self.public(e) for e in items],
            }
            if offset + size < len(chosen):
                answer["nextPageToken"] = _encode({"o": offset + size, "s": snapshot})
            else:
                answer["nextSyncToken"] = _encode({"c": calendar.id, "e": calendar.epoch, "s": snapshot})
            return answer

    def invalidate_sync_tokens(self, calendar_id: str) -> None:
        with self.lock:
            self.calendar(calendar_id).epoch += 1

    @staticmethod
    def public(event: Json) -> Json:
        return {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}

    # --- channels -----------------------------------------------------------------------------

    def watch(self, user: str | None, calendar_id: str, body: Json) -> Json:
        with self.lock:
            calendar = self.resolve(user, calendar_id)
            if body.get("type") not in ("web_hook", "webhook"):
                raise GoogleError(400, "invalid", "Invalid channel type.")
            if not body.get("id") or not str(body.get("address", "")).startswith(("https://", "http://")):
                raise GoogleError(400, "required", "Channel id and address are required.")
            if body["id"] in self.channels:
                raise GoogleError(400, "channelIdNotUnique", "Channel id not unique.")
            now_ms = int(self.clock() * 1000)
            ttl = int((body.get("params") or {}).get("ttl", DEFAULT_CHANNEL_SECONDS))
            expiration = int(body.get("expiration") or now_ms + 1000 * min(ttl, MAX_CHANNEL_SECONDS))
            expiration = min(expiration, now_ms + 1000 * MAX_CHANNEL_SECONDS)
            channel = {
                "id": body["id"],
                "resourceId": secrets.token_urlsafe(18),
                "resourceUri": f"https://www.googleapis.com/calendar/v3/calendars/{calendar.id}/events?alt=json",
                "token": body.get("token"),
                "address": body["address"],
                "expiration": expiration,
                "calendarId": calendar.id,
                "stopped": False,
                "messages": 1,
            }
            self.channels[body["id"]] = channel
            self.notify(dict(channel), "sync", 1)
            return {
                "kind": "api#channel",
                **{k: channel[k] for k in ("id", "resourceId", "resourceUri")},
                **({"token": channel["token"]} if channel["token"] else {}),
                "expiration": str(expiration),
            }

    def stop_channel(self, body: Json) -> None:
        with self.lock:
            channel = self.channels.get(str(body.get("id")))
            if channel is None or channel["resourceId"] != body.get("resourceId") or channel["stopped"]:
                raise GoogleError(404, "notFound", f"Channel '{body.get('id')}' not found for project")
            channel["stopped"] = True
