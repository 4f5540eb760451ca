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
from typing import TYPE_CHECKING, Any, Literal, cast

from chalice import Blueprint, Response

from chalicelib.actor import act_as
from chalicelib.api import cors
from chalicelib.api.errors import JSON_HEADERS, domain_error_response, internal_error_response
from chalicelib.api.lazy import model_types, registry, resolve
from chalicelib.domain.errors import DomainError

if TYPE_CHECKING:
    from chalicelib.api.model_types import Body, File, Query

View = Callable[..., Any]
Auth = Literal["platform", "admin", "public", "none"]
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Operation:
    """One route. Its models are named (`"catalog_models.Service"`), not imported: importing the
    app must not build every model (the cold start); they are resolved on first use."""

    method: str
    path: str  # Chalice's spelling: {service_id}
    name: str
    summary: str
    auth: Auth
    status: int
    body_ref: str | None
    query_ref: str | None
    header_ref: str | None
    response_ref: str | None
    errors: tuple[int, ...]
    media: str = "application/json"
    files: tuple[str, ...] = ()  # other media types the answer comes in, by the query's `format`
    also: tuple[int, ...] = ()  # other success statuses answering the same model (200 after a first 201)

    @property
    def body(self) -> type[Body] | None:
        return cast("type[Body] | None", _model(self.body_ref))

    @property
    def query(self) -> type[Query] | None:
        return cast("type[Query] | None", _model(self.query_ref))

    @property
    def header(self) -> type[Query] | None:
        return cast("type[Query] | None", _model(self.header_ref))

    @property
    def response(self) -> type[Body] | None:
        return cast("type[Body] | None", _model(self.response_ref))

    @property
    def statuses(self) -> list[int]:
        """Every status this route can answer with."""
        found = {self.status, *self.also, *self.errors, 500}
        if self.auth != "none":
            found.add(401)
        if self.auth in ("admin", "public"):
            found.add(403)
        if self.body_ref or self.query_ref or self.header_ref or "{" in self.path:
            found.add(400)
        if self.body_ref:
            found.add(415)
        if "{" in self.path:
            found.add(404)
        return sorted(found)


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class Answered:
    """A view's model with one of the route's `also` statuses instead of its usual one."""

    status: int
    body: Any


@functools.cache
def _model(reference: str | None) -> Any:
    return None if reference is None else resolve(reference)


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
    body: str | None = None,
    response: str | None = None,
    errors: tuple[int, ...] = (),
    media: str = "application/json",
    files: tuple[str, ...] = (),
    also: tuple[int, ...] = (),
    content_types: tuple[str, ...] = (),
) -> Callable[[View], View]:
    """Register `view`, called with the path parameters and, as its signature asks, `caller` (admin
    or public credential) and `body`, `query` and `header` as the models their annotations name
    (`body: catalog_models.NewService`); it returns the model its return annotation names (or None:
    204). The signature is the declaration, so the contract and mypy read the same types; `body` and
    `response` name a model the annotation cannot (a generated PATCH model). Models are resolved on
    the first call. With `files`, a query whose `format` is not json gets the answer's `as_file`
    (a CSV or PDF of the same model) instead of its JSON."""

    def decorator(view: View) -> View:
        summary = (view.__doc__ or view.__name__).strip()
        declared = {name: _reference(view, name) for name in ("body", "query", "header", "return")}
        OPERATIONS.append(
            operation := Operation(
                method,
                path,
                view.__name__,
                summary,
                auth,
                status,
                body or declared["body"],
                declared["query"],
                declared["header"],
                response or declared["return"],
                errors,
                media,
                files,
                also,
            )
        )

        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            act_as(ANONYMOUS)  # until a credential names someone; warm Lambdas must not inherit the last caller
            request = bp.current_request
            origin: str | None = None  # a cross-origin caller the tenant allows (public routes only)
            try:
                caller = _authenticate(auth, request.headers)
                if auth in ("admin", "public"):
                    kwargs["caller"] = caller
                if public_cors:
                    origin = cors.allowed_caller_origin(caller.tenant, request.headers)
                if (body_model := operation.body) is not None:
                    kwargs["body"] = model_types.validated(body_model, model_types.parse_json_object(request.raw_body))
                if (query_model := operation.query) is not None:
                    kwargs["query"] = model_types.validated(query_model, dict(request.query_params or {}))
                if (header_model := operation.header) is not None:
                    kwargs["header"] = model_types.validated(header_model, _headers(header_model, request.headers))
                response = _response(view(**kwargs), kwargs)
            except DomainError as error:
                response = domain_error_response(error)
            except Exception:
                response = internal_error_response()
            if public_cors:
                response.headers.update(cors.response_headers(origin))
            return response

        def _response(result: Any, kwargs: dict[str, Any]) -> Response:
            if result is None:
                return Response(body="", status_code=204)
            if isinstance(result, Response):
                return result
            answered = status
            if isinstance(result, Answered):
                answered, result = result.status, result.body
            if files and (wanted := str(getattr(kwargs.get("query"), "format", "json"))) != "json":
                return _file_response(result.as_file(wanted), status)
            answer = result.json_body() if isinstance(result, model_types.Body) else result
            return Response(body=answer, status_code=answered, headers=dict(JSON_HEADERS))

        public_cors = auth == "public" and cors.applies_to(path)
        if public_cors:
            _register_preflight(bp, path)
        # `content_types`: what a body-less route accepts besides JSON (Google's notifications
        # carry no JSON body and arrive with whatever Content-Type the sender's client sets).
        options = {"content_types": ["application/json", *content_types]} if content_types else {}
        bp.route(path, methods=[method], **options)(handler)
        return view

    return decorator


_PREFLIGHTS: set[str] = set()


def _register_preflight(bp: Blueprint, path: str) -> None:
    """`OPTIONS path` for browsers (once per path), answering with the methods the table lists for it."""
    if path in _PREFLIGHTS:
        return
    _PREFLIGHTS.add(path)
    OPERATIONS.append(
        Operation(
            "OPTIONS", path, f"preflight{len(_PREFLIGHTS)}", "CORS preflight", "none", 204, None, None, None, None, ()
        )
    )

    def preflight(**_: Any) -> Response:
        methods = sorted({op.method for op in OPERATIONS if op.path == path and op.method != "OPTIONS"})
        headers: dict[str, str | list[str]] = {**cors.preflight_headers(bp.current_request.headers, methods)}
        return Response(body="", status_code=204, headers=headers)

    bp.route(path, methods=["OPTIONS"])(preflight)


def _file_response(file: File, status: int) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": file.media,
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=file.content, status_code=status, headers=headers)


def _reference(view: View, parameter: str) -> str | None:
    """`"catalog_models.NewService"` when the view annotates `parameter` with a model of chalicelib.api
    (`from __future__ import annotations` keeps annotations as written)."""
    annotation = view.__annotations__.get(parameter)
    return annotation if isinstance(annotation, str) and re.fullmatch(r"\w+\.\w+", annotation) else None


def camel_path(path: str) -> str:
    """`/v1/admin/services/{service_id}` as the contract spells it: `{serviceId}`."""
    return re.sub(r"{(\w+)}", lambda m: "{" + re.sub(r"_(\w)", lambda w: w.group(1).upper(), m.group(1)) + "}", path)
