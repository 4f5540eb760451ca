"""The local stack's HTTP server: Chalice's local gateway, served by a bounded pool.

Chalice's `ThreadedHTTPServer` listens with socketserver's default backlog of 5 and
starts one thread per connection without bound: a burst of 32 clients gets
`Connection reset by peer`, and a flood gets as many threads as sockets. Here the listen
backlog holds `BACKLOG` connections, a fixed pool of `WORKERS` threads serves them (the
rest wait, accepted, in the pool's queue). Every answer says `Connection: close`: a
keep-alive connection would pin a worker while its client idles (requests and browsers
keep them for minutes), and 32 idle sockets would starve everyone else. A client that
sends nothing is dropped after `IDLE_SECONDS`, and `server_close` cuts every connection
still open, so a stop never waits for a client.

Two answers differ from Chalice's: a path no route matches is 404 `not_found` in the
API's error shape (API Gateway says 403 "Missing Authentication Token", reshaped by the
gateway responses in infra/template.json when deployed), and the request log never
prints a query string (a manage token may ride in one).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

from chalicelib.api.errors import error_body

BACKLOG = 1024
WORKERS = 32
IDLE_SECONDS = 10.0

_NO_ROUTE = b"Missing Authentication Token"


class PooledHTTPServer(HTTPServer):
    """HTTPServer whose connections are served by a fixed thread pool."""

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http")
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is not the server's error; anything else is printed."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        """Stop listening, cut every open connection (a worker blocked on it returns), drop queued ones."""
        super().server_close()
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._pool.shutdown(wait=True, cancel_futures=True)


class ApiRequestHandler(ChaliceRequestHandler):
    """Chalice's handler with an idle timeout, the API's 404, and a request log without queries."""

    timeout = IDLE_SECONDS

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        self.send_header("Connection", "close")  # also sets close_connection: one request per connection

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, ForbiddenError) and _NO_ROUTE in (error.body or b""):
            body = error_body("not_found", "No such route.")
            self._send_http_response(404, {"Content-Type": "application/json"}, json.dumps(body))
            return
        super()._send_error_response(error)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a method no route serves, a malformed request line) in the
        API's error shape instead of its HTML page; an unknown method is a 405, as API Gateway says."""
        status, body = (
            (405, error_body("method_not_allowed", "Method not allowed."))
            if code == 501
            else (code, error_body("invalid_request", "The request could not be read."))
        )
        payload = json.dumps(body).encode()
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # a line too garbled to parse still gets headers
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and status >= 200:
            self.wfile.write(payload)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = (getattr(self, "path", "") or "").split("?", 1)[0]  # unset when the line was unreadable
        self.log_message('"%s %s" %s', getattr(self, "command", None) or "-", path or "-", str(code))

    def log_error(self, format: str, *args: Any) -> None:
        """http.server logs a refused request with its raw request line, query (and token) included."""
        path = (getattr(self, "path", "") or "").split("?", 1)[0]
        self.log_message("refused %s %s", getattr(self, "command", None) or "-", path or "-")


def pooled_local_server(app: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
    """What `chalice.local.create_local_server` builds, with the pooled server and our handler."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=ApiRequestHandler, server_cls=PooledHTTPServer)
