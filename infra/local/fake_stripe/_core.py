"""The fake's state (every object, event and request) and the path every API request takes.

Authentication, then failure injection, the connected-account check, idempotency and finally the
endpoint, all under one lock: requests are applied one at a time, as if Stripe serialized them.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._forms import FormError, parse_form
from ._params import ApiError, Json, invalid, missing

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class ApiResult:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Stored:
    method: str
    path: str
    params: Json
    result: ApiResult
    request_id: str
    created: float


@dataclass
class Failure:
    method: str
    path_prefix: str
    status: int
    error: Json
    headers: dict[str, str]
    times: int


@dataclass
class Decline:
    code: str = "card_declined"
    decline_code: str = "generic_decline"
    message: str = "Your card was declined."


# An endpoint: (core, connected account or None, parsed params, *path groups) -> the object answered.
Handler = Callable[..., Json]


class Core:
    def __init__(
        self,
        api_key: str,
        api_version: str,
        clock: Callable[[], float],
        public_url: Callable[[], str],
        deliver: Callable[[Json], None],
    ) -> None:
        self.lock = threading.RLock()
        self.api_key = api_key
        self.api_version = api_version
        self.clock = clock
        self.public_url = public_url
        self._deliver = deliver
        self.routes: list[tuple[str, Any, Handler]] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, Json] = {}  # id -> object, as Stripe would answer it
            self.owner: dict[str, str | None] = {}  # id -> connected account (None: the platform)
            self.private: dict[str, Json] = {}  # id -> what only the fake knows (session's intent data...)
            self.links: dict[str, Json] = {}  # account link token -> its state
            self.events: list[Json] = []
            self.requests: list[Json] = []
            self.failures: list[Failure] = []
            self.declines: list[Decline] = []
            self._idempotent: dict[tuple[str | None, str], _Stored] = {}
            self._request: tuple[str | None, str | None] = (None, None)  # (request id, idempotency key) for events

    # --- objects ---------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def store(self, obj: Json, account: str | None) -> Json:
        self.objects[obj["id"]] = obj
        self.owner[obj["id"]] = account
        return obj

    def get(self, kind: str, object_id: Any, account: str | None, param: str | None = None) -> Json:
        """The object if it exists *on this account*; anything else is `resource_missing`."""
        found = self.objects.get(object_id) if isinstance(object_id, str) else None
        if found is None or found["object"] != kind or self.owner[object_id] != account:
            raise missing(kind, str(object_id), param)
        return found

    def base(self, prefix: str, kind: str, **fields: Any) -> Json:
        return {"id": new_id(prefix), "object": kind, "created": self.now(), "livemode": False, **fields}

    def expand(self, obj: Json, paths: Any, account: str | None) -> Json:
        """`expand[]=a.b` replaces the id at that path by its object; a list's `data` expands every item."""
        answer = copy.deepcopy(obj)
        for path in paths if isinstance(paths, list) else []:
            self._expand_path(answer, str(path).split("."), account)
        return answer

    def _expand_path(self, node: Any, names: list[str], account: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                self._expand_path(item, names, account)
            return
        name = names[0]
        if not isinstance(node, dict) or name not in node:
            raise invalid(f"This property cannot be expanded ({name}).", "expand")
        value = node[name]
        if isinstance(value, str) and value in self.objects and self.owner[value] == account:
            node[name] = copy.deepcopy(self.objects[value])
        elif isinstance(value, str):
            raise invalid(f"This property cannot be expanded ({name}).", "expand")
        if len(names) > 1 and node[name] is not None:
            self._expand_path(node[name], names[1:], account)

    # --- events ----------------------------------------------------------------------------

    def emit(self, type_: str, obj: Json, account: str | None, previous: Json | None = None) -> Json:
        data: Json = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        request_id, key = self._request
        event: Json = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": key},
            "type": type_,
        }
        if account is not None:
            event["account"] = account
        self.events.append(event)
        self._deliver(event)
        return event

    # --- the request path ------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: str, headers: Mapping[str, str]) -> ApiResult:
        """One API request; `headers` has lower-case names."""
        request_id = new_id("req_", 14)
        account = headers.get("stripe-account") or None
        key = (headers.get("idempotency-key") or None) if method == "POST" else None
        record: Json = {
            "method": method,
            "path": path,
            "params": {},
            "idempotency_key": headers.get("idempotency-key") or None,
            "account": account,
            "stripe_version": headers.get("stripe-version") or None,
            "request_id": request_id,
            "status": None,
        }
        with self.lock:
            self.requests.append(record)
            try:
                params = parse_form(query if method in ("GET", "DELETE") else body)
                record["params"] = params
                result = self._dispatch(method, path, params, headers, account, key, request_id)
            except FormError as exc:
                result = self._error(invalid(str(exc), exc.param))
            record["status"] = result.status
        answer = {**result.headers, "Request-Id": request_id}  # a copy: stored results stay as they were
        answer["Stripe-Version"] = headers.get("stripe-version") or self.api_version
        if key is not None:
            answer["Idempotency-Key"] = key
        return ApiResult(result.status, result.body, answer)

    def _dispatch(
        self,
        method: str,
        path: str,
        params: Json,
        headers: Mapping[str, str],
        account: str | None,
        key: str | None,
        request_id: str,
    ) -> ApiResult:
        if not self._authenticated(headers.get("authorization", "")):
            message = (
                "You did not provide a valid API key. Provide it in the Authorization header, using Bearer auth "
                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
            return self._error(ApiError(401, "invalid_request_error", message))
        self.expire_due()
        injected = self._take_failure(method, path)
        if injected is not None:
            return injected
        if account is not None and self.objects.get(account, {}).get("object") != "account":
            message = f"The provided key does not have access to account '{account}' (or that account does not exist)."
            return self._error(ApiError(403, "invalid_request_error", message, code="account_invalid"))
        stored = self._idempotent.get((account, key)) if key is not None else None
        if stored is not None and self.clock() - stored.created > IDEMPOTENCY_TTL_SECONDS:
            stored = None
        if stored is not None:
            return self._replay(stored, method, path, params, key or "")
        self._request = (request_id, key)
        try:
            result = self._route(method, path, params, account)
        except ApiError as exc:
            result = self._error(exc)
        finally:
            self._request = (None, None)
        # Stripe saves a result once the endpoint has run: successes and declines, not refused parameters.
        if key is not None and (result.status < 400 or result.status == 402):
            self._idempotent[(account, key)] = _Stored(method, path, params, result, request_id, self.clock())
        return result

    def _authenticated(self, authorization: str) -> bool:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic":  # curl -u sk_test_...:
            try:
                credential = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                return False
        elif scheme.lower() != "bearer":
            return False
        return secrets.compare_digest(credential.strip(), self.api_key)

    def _take_failure(self, method: str, path: str) -> ApiResult | None:
        for failure in self.failures:
            if failure.method in (method, "*") and path.startswith(failure.path_prefix):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                body = failure.error if "error" in failure.error else {"error": failure.error}
                return ApiResult(failure.status, json.dumps(body).encode(), dict(failure.headers))
        return None

    def _replay(self, stored: _Stored, method: str, path: str, params: Json, key: str) -> ApiResult:
        if (stored.method, stored.path) != (method, path):
            message = (
                "Keys for idempotent requests can only be used for the same endpoint they were first used for "
                f"('{stored.method} {stored.path}' vs '{method} {path}'). "
                f"Try using a key other than '{key}' if you meant to execute a different request."
            )
            return self._error(ApiError(400, "idempotency_error", message))
        if stored.params != params:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request."
            )
            return self._error(ApiError(400, "idempotency_error", message))
        headers = {**stored.result.headers, "Idempotent-Replayed": "true", "Original-Request": stored.request_id}
        return ApiResult(stored.result.status, stored.result.body, headers)

    def _route(self, method: str, path: str, params: Json, account: str | None) -> ApiResult:
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                answer = handler(self, account, params, *match.groups())
                answer = self.expand(answer, params.get("expand"), account)
                return ApiResult(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})
        raise ApiError(
            404,
            "invalid_request_error",
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
        )

    def _error(self, exc: ApiError) -> ApiResult:
        body = json.dumps({"error": exc.error}).encode()
        return ApiResult(exc.status, body, {"Content-Type": "application/json"})

    # --- time ------------------------------------------------------------------------------

    def expire_due(self) -> int:
        """Expire every open Checkout Session whose `expires_at` has passed; returns how many."""
        with self.lock:
            now = self.clock()
            due = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "checkout.session" and obj["status"] == "open" and obj["expires_at"] <= now
            ]
            for session in due:
                self.expire_session(session)
            return len(due)

    def expire_session(self, session: Json) -> None:
        session.update(status="expired", url=None)
        self.emit("checkout.session.expired", session, self.owner[session["id"]])
