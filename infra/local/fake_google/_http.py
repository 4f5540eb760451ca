"""HTTP: OAuth (/o/oauth2/v2/auth, /token, /revoke), Calendar v3 (/calendar/v3/...), discovery, /_fake control."""

from __future__ import annotations

import html
import json
import logging
import os
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from ._core import GoogleError, Json

if TYPE_CHECKING:
    from ._fake import FakeGoogle

log = logging.getLogger("fake_google")
DEFAULT_EMAIL = "calendar-owner@fake-google.test"


def _flat(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


def discovery_document(base_url: str) -> bytes:
    """The calendar v3 discovery document the client library ships, pointed at this fake."""
    import googleapiclient

    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents", "calendar.v3.json")
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    document["rootUrl"] = base_url.rstrip("/") + "/"
    document["baseUrl"] = document["rootUrl"] + document["servicePath"]
    return json.dumps(document).encode()


def consent_page(params: dict[str, str]) -> bytes:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    email = html.escape(params.get("login_hint") or DEFAULT_EMAIL)
    scope = html.escape(params.get("scope", ""))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in - Fake Google</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<main><h1>Fake Google: allow access to your calendar</h1><p>Scopes: {scope}</p>
<form method="post" action="/o/oauth2/v2/auth/approve">{hidden}
<label for="email">Google account</label> <input id="email" name="email" type="email" value="{email}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Cancel</button></form></main></body></html>""".encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGoogle) -> None:
        super().__init__(address, Handler)
        self.fake = fake


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "fake-google"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self, method: str) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = target.path
        core = self.server.fake._core
        try:
            if path.startswith("/_fake/"):
                self._control(method, path.removeprefix("/_fake/"), body)
                return
            with core.lock:
                core.requests.append({"method": method, "path": path, "query": target.query})
            failure = core.take_failure(method, path)
            if failure is not None:
                raise failure
            self._route(method, path, _flat(target.query), body)
        except GoogleError as exc:
            self._json(exc.status, exc.body())
        except Exception as exc:  # a bug in the fake must read as one, not as a Google answer
            log.exception("fake_google failed on %s %s", method, self.path)
            self._json(
                500, {"error": {"code": 500, "message": f"fake_google crashed: {exc!r}\n{traceback.format_exc()}"}}
            )

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        fake = self.server.fake
        core = fake._core
        if path in ("/o/oauth2/v2/auth", "/o/oauth2/auth") and method == "GET":
            core.check_authorize(query)
            self._send(200, consent_page(query), {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/o/oauth2/v2/auth/approve" and method == "POST":
            form = _flat(body.decode())
            email = form.pop("email", "") or DEFAULT_EMAIL
            decision = form.pop("decision", "allow")
            answer = {"state": form["state"]} if "state" in form else {}
            if decision == "allow":
                answer = {"code": core.grant_code(form, email), **answer, "scope": form.get("scope", "")}
            else:
                core.check_authorize(form)
                answer = {"error": "access_denied", **answer}
            separator = "&" if "?" in form["redirect_uri"] else "?"
            self._send(302, b"", {"Location": form["redirect_uri"] + separator + urlencode(answer)})
        elif path == "/token" and method == "POST":
            self._json(200, core.token(_flat(body.decode())))
        elif path in ("/revoke", "/o/oauth2/revoke") and method in ("POST", "GET"):
            token = query.get("token") or _flat(body.decode()).get("token", "")
            core.revoke(token)
            self._json(200, {})
        elif path in ("/discovery/v1/apis/calendar/v3/rest", "/calendar/v3/$discovery/rest") and method == "GET":
            self._send(200, discovery_document(fake.url), {"Content-Type": "application/json"})
        elif path.startswith("/calendar/v3/"):
            self._calendar(method, path.removeprefix("/calendar/v3/"), query, body)
        else:
            raise GoogleError(404, "notFound", f"No such path: {path}")

    def _calendar(self, method: str, rest: str, query: dict[str, str], body: bytes) -> None:
        core = self.server.fake._core
        user = core.user(self.headers.get("Authorization"))
        core.count_call(user or "owner")
        data: Json = json.loads(body) if body.strip() else {}
        parts = [unquote(part) for part in rest.split("/")]
        if parts == ["channels", "stop"] and method == "POST":
            core.stop_channel(data)
            self._send(204, b"", {})
            return
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            raise GoogleError(404, "notFound", "Not Found")
        calendar_id = parts[1]
        if len(parts) == 3 and method == "POST":
            self._json(200, core.insert(user, calendar_id, data))
        elif len(parts) == 3 and method == "GET":
            self._json(200, core.list(user, calendar_id, query))
        elif len(parts) == 4 and parts[3] == "watch" and method == "POST":
            self._json(200, core.watch(user, calendar_id, data))
        elif len(parts) == 4 and method == "GET":
            self._json(200, core.get(user, calendar_id, parts[3]))
        elif len(parts) == 4 and method in ("PATCH", "PUT"):
            self._json(200, core.patch(user, calendar_id, parts[3], data, replace=method == "PUT"))
        elif len(parts) == 4 and method == "DELETE":
            core.delete(user, calendar_id, parts[3])
            self._send(204, b"", {})
        else:
            raise GoogleError(404, "notFound", "Not Found")

    # --- control API ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> None:
        fake = self.server.fake
        data: Any = json.loads(body) if body.strip() else {}
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if method == "GET" and path in ("requests", "deliveries"):
            self._json(200, getattr(fake, path))
        elif method == "POST" and path == "fail_next":
            fake.fail_next(
                data.get("method", "*"),
                data.get("path_prefix", "/calendar/"),
                int(data.get("status", 500)),
                data.get("reason"),
                times=int(data.get("times", 1)),
            )
            self._json(200, {"ok": True})
        elif method == "POST" and path == "reset":
            fake.reset()
            self._json(200, {"ok": True})
        elif method == "POST" and path == "revoke_grants":
            self._json(200, {"revoked": fake.revoke_grants(data["email"])})
        elif method == "POST" and len(parts) == 3 and parts[0] == "calendars" and parts[2] == "invalidate_sync_tokens":
            fake.invalidate_sync_tokens(parts[1])
            self._json(200, {"ok": True})
        elif method == "GET" and len(parts) == 3 and parts[0] == "calendars" and parts[2] == "events":
            self._json(200, {"items": fake.events(parts[1], include_deleted=True)})
        else:
            self._json(404, {"error": f"no control endpoint {method} /_fake/{path}"})

    # --- plumbing ------------------------------------------------------------------------------

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, indent=1).encode(), {"Content-Type": "application/json; charset=UTF-8"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
