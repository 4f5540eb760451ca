"""Route registration: each route declares its credential, models and statuses in one table.

The handler authenticates, reads the body and query into their models, calls the view and
serialises its model; every error goes through one mapping. `OPERATIONS` is what
`/v1/openapi.json` is generated from, so what is served and what is described cannot part.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from chalice import Blueprint, Response

from chalicelib.actor import act_as
from chalicelib.api.errors import JSON_HEADERS, domain_error_response, internal_error_response
from chalicelib.api.model_types import Body, Query, parse_json_object, validated
from chalicelib.domain.errors import DomainError
from chalicelib.services import registry

View = Callable[..., Any]
Auth = Literal["platform", "admin", "public", "none"]
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # Chalice's spelling: {service_id}
    name: str
    summary: str
    auth: Auth
    status: int
    body: type[Body] | None
    query: type[Query] | None
    header: type[Query] | None
    response: type[Body] | None
    errors: tuple[int, ...]
    media: str = "application/json"

    @property
    def statuses(self) -> list[int]:
        """Every status this route can answer with."""
        found = {self.status, *self.errors, 500}
        if self.auth != "none":
            found.add(401)
        if self.auth in ("admin", "public"):
            found.add(403)
        if self.body or self.query or self.header or "{" in self.path:
            found.add(400)
        if self.body:
            found.add(415)
        if "{" in self.path:
            found.add(404)
        return sorted(found)


OPERATIONS: list[Operation] = []


def _authenticate(auth: Auth, headers: Any) -> Any:
    if auth == "admin":
        return registry.authenticator().admin(headers.get("authorization"))
    if auth == "public":
        return registry.authenticator().public(headers.get("x-tenant-key"))
    if auth == "platform":
        registry.authenticator().platform(headers.get("authorization"))
    return None


def _headers(model: type[Query], headers: Any) -> dict[str, Any]:
    names = [info.alias or name for name, info in model.model_fields.items()]
    return {name: headers[name] for name in names if name in headers}


def api_route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    auth: Auth,
    status: int = 200,
    body: type[Body] | None = None,
    query: type[Query] | None = None,
    header: type[Query] | None = None,
    response: type[Body] | None = None,
    errors: tuple[int, ...] = (),
    media: str = "application/json",
) -> Callable[[View], View]:
    """Register `view`, called with the path parameters and, as declared, `caller` (admin or
    public credential), `body`, `query` and `header` as their models; it returns `response` (or None: 204)."""

    def decorator(view: View) -> View:
        summary = (view.__doc__ or view.__name__).strip()
        OPERATIONS.append(
            Operation(method, path, view.__name__, summary, auth, status, body, query, header, response, errors, media)
        )

        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            act_as(ANONYMOUS)  # until a credential names someone; warm Lambdas must not inherit the last caller
            request = bp.current_request
            try:
                caller = _authenticate(auth, request.headers)
                if auth in ("admin", "public"):
                    kwargs["caller"] = caller
                if body is not None:
                    kwargs["body"] = validated(body, parse_json_object(request.raw_body))
                if query is not None:
                    kwargs["query"] = validated(query, dict(request.query_params or {}))
                if header is not None:
                    kwargs["header"] = validated(header, _headers(header, request.headers))
                result = view(**kwargs)
            except DomainError as error:
                return domain_error_response(error)
            except Exception:
                return internal_error_response()
            if result is None:
                return Response(body="", status_code=204)
            if isinstance(result, Response):
                return result
            answer = result.json_body() if isinstance(result, Body) else result
            return Response(body=answer, status_code=status, headers=dict(JSON_HEADERS))

        bp.route(path, methods=[method])(handler)
        return view

    return decorator


def camel_path(path: str) -> str:
    """`/v1/admin/services/{service_id}` as the contract spells it: `{serviceId}`."""
    return re.sub(r"{(\w+)}", lambda m: "{" + re.sub(r"_(\w)", lambda w: w.group(1).upper(), m.group(1)) + "}", path)
