"""The one place where domain errors become HTTP statuses and the API's error body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Response
from chalice.app import Request

from chalicelib.domain.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RuleViolationError,
    TokenGoneError,
    UpstreamUnavailableError,
    ValidationError,
)
from chalicelib.observability import logger, metrics

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationError: 400,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    TokenGoneError: 410,
    RuleViolationError: 422,
    RateLimitedError: 429,
    UpstreamUnavailableError: 503,
}
JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def domain_error_response(error: DomainError) -> Response:
    status = status_for(error)
    headers = dict(JSON_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = error.details.get("retryAfterSeconds") if status == 429 else None
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    logger.info("request refused", extra={"status": status, "code": error.code})
    return Response(body=error_body(error.code, error.message, error.details), status_code=status, headers=headers)


def internal_error_response() -> Response:
    """A bug or an outage: logged with its trace, answered without one."""
    logger.exception("unhandled error")
    metrics.add_metric(name="UnhandledError", unit=MetricUnit.Count, value=1)
    return Response(
        body=error_body("internal_error", "Something went wrong on our side. Please retry later."),
        status_code=500,
        headers=dict(JSON_HEADERS),
    )


# Chalice answers a few requests itself, before any view runs, with {"Code", "Message"}.
_CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "invalid_request",
}


def in_api_error_shape(response: Response) -> Response:
    """Chalice's own error answer rewritten in the API's error body; any other response unchanged."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    if response.status_code >= 500 or body["Code"] not in _CHALICE_CODES:
        return internal_error_response()
    headers = {**response.headers, **JSON_HEADERS}
    return Response(
        body=error_body(_CHALICE_CODES[body["Code"]], str(body["Message"])),
        status_code=response.status_code,
        headers=headers,
    )


def api_error_shape(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: every error a client sees has the API's shape, including Chalice's own."""
    return in_api_error_shape(get_response(event))
