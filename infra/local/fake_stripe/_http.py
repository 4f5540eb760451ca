"""HTTP: the API under /v1, the hosted pages (/pay, /onboard) and the control API under /_fake."""

from __future__ import annotations

import json
import logging
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import _pages
from ._connect import submit_onboarding, visit_onboarding
from ._params import ApiError

if TYPE_CHECKING:
    from ._fake import FakeStripe

log = logging.getLogger("fake_stripe")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeStripe) -> None:
        super().__init__(address, Handler)
        self.fake = fake


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "fake-stripe"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self, method: str) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            path = target.path
            if path.startswith("/v1/"):
                headers = {name.lower(): value for name, value in self.headers.items()}
                result = self.server.fake._core.handle(method, path, target.query, body, headers)
                self._send(result.status, result.body, result.headers)
            elif path.startswith("/pay/"):
                self._pay(method, path.removeprefix("/pay/"), parse_qs(body))
            elif path.startswith("/onboard/"):
                form = parse_qs(body if method == "POST" else target.query)
                self._onboard(method, path.removeprefix("/onboard/"), form)
            elif path.startswith("/_fake/"):
                self._control(method, path.removeprefix("/_fake/"), body)
            else:
                self._json(404, {"error": {"type": "invalid_request_error", "message": f"No such page: {path}"}})
        except Exception as exc:  # a bug in the fake must read as one, not as a Stripe answer
            log.exception("fake_stripe failed on %s %s", method, self.path)
            message = f"fake_stripe crashed: {exc!r}\n{traceback.format_exc()}"
            self._json(500, {"error": {"type": "api_error", "message": message}})

    # --- hosted pages --------------------------------------------------------------------------

    def _pay(self, method: str, session_id: str, form: dict[str, list[str]]) -> None:
        fake = self.server.fake
        if method == "POST":
            card = (form.get("card") or ["pm_card_visa"])[0]
            email = (form.get("email") or [""])[0] or None
            try:
                session = fake.complete_session(session_id, card=card, email=email)
            except ApiError as exc:
                status = {402: 402, 404: 404}.get(exc.status, 409)
                self._page_for_session(session_id, status, str(exc) if exc.status == 402 else None)
                return
            self._send(200, _pages.paid(session), {"Content-Type": "text/html; charset=utf-8"})
            return
        self._page_for_session(session_id, 200, None)

    def _page_for_session(self, session_id: str, status: int, error: str | None) -> None:
        core = self.server.fake._core
        with core.lock:
            core.expire_due()
            session = core.objects.get(session_id)
            if session is None or session["object"] != "checkout.session":
                html = _pages.page("Not found", "<h1>No such Checkout Session</h1>")
                self._send(404, html, {"Content-Type": "text/html; charset=utf-8"})
                return
            html = _pages.checkout(session, core.private[session_id]["lines"], error)
        self._send(status, html, {"Content-Type": "text/html; charset=utf-8"})

    def _onboard(self, method: str, account_id: str, form: dict[str, list[str]]) -> None:
        fake = self.server.fake
        core = fake._core
        token = (form.get("link") or [""])[0]
        html = b""
        with core.lock:
            if method == "POST":
                finish = (form.get("action") or ["complete"])[0] == "complete"
                kind, target = submit_onboarding(core, account_id, token, finish)
            else:
                kind, found = visit_onboarding(core, account_id, token)
                target = found if isinstance(found, str) else None
                if kind == "page" and isinstance(found, dict):
                    html = _pages.onboarding(found, token)
        if kind == "missing":
            self._send(404, _pages.page("Not found", "<h1>No such account link</h1>"), {"Content-Type": "text/html"})
        elif kind == "page":
            self._send(200, html, {"Content-Type": "text/html; charset=utf-8"})
        else:
            if method == "POST":
                fake.flush()
            self._send(303 if method == "POST" else 302, b"", {"Location": target or "/"})

    # --- control API ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: str) -> None:
        try:
            data: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            self._json(400, {"error": "body must be JSON"})
            return
        try:
            self._command(method, path, data)
        except ApiError as exc:
            self._json(exc.status, {"error": exc.error})

    def _command(self, method: str, path: str, data: Any) -> None:
        fake = self.server.fake
        parts = path.strip("/").split("/")
        if method == "GET" and path in ("requests", "events", "deliveries"):
            self._json(200, getattr(fake, path))
        elif path == "config":
            if method == "POST":
                for name in ("webhook_url", "public_url", "enabled_events"):
                    if name in data:
                        setattr(fake, name, data[name])
            self._json(200, fake.config())
        elif method == "POST" and len(parts) == 3 and parts[0] == "events" and parts[2] == "resend":
            self._json(200, {"delivery": fake.resend(parts[1])})
        elif method == "POST" and path == "fail_next":
            fake.fail_next(
                data.get("method", "*"),
                data.get("path_prefix", "/v1/"),
                int(data.get("status", 500)),
                data.get("error") or {"type": "api_error", "message": "Injected failure."},
                times=int(data.get("times", 1)),
            )
            self._json(200, {"ok": True})
        elif method == "POST" and path == "decline_next":
            fake.decline_next(**{k: v for k, v in data.items() if k in ("code", "decline_code", "message")})
            self._json(200, {"ok": True})
        elif method == "POST" and path == "reset":
            fake.reset()
            self._json(200, {"ok": True})
        elif method == "POST" and path == "expire_due":
            self._json(200, {"expired": fake.expire_due()})
        elif method == "POST" and len(parts) == 4 and parts[:2] == ["checkout", "sessions"] and parts[3] == "complete":
            self._json(200, fake.complete_session(parts[2], card=data.get("card", "pm_card_visa")))
        elif method == "POST" and len(parts) == 3 and parts[0] == "accounts" and parts[2] == "complete_onboarding":
            self._json(200, fake.complete_onboarding(parts[1]))
        else:
            self._json(404, {"error": f"no control endpoint {method} /_fake/{path}"})

    # --- plumbing ------------------------------------------------------------------------------

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, indent=2).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
