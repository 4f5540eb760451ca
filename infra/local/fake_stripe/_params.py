"""Stripe's error shape and its parameter checks (unknown, missing, malformed parameters)."""

from __future__ import annotations

import re
from typing import Any

Json = dict[str, Any]

LEAF = "leaf"  # a scalar (string) parameter
ANY = "any"  # accepted as sent, not looked into
META = "metadata"  # Stripe's metadata rules


class ApiError(ValueError):
    """An error answer: `{"error": {"type", "message", "code"?, "param"?, ...}}` with an HTTP status."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        extra: Json | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: Json = {"type": type_, "message": message}
        if code is not None:
            self.error["code"] = code
        if param is not None:
            self.error["param"] = param
        self.error.update(extra or {})


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request_error", message, param=param, code=code)


def missing(kind: str, object_id: str, param: str | None = None) -> ApiError:
    """`resource_missing`: 404 for the object in the path, 400 for an object a parameter names."""
    status = 404 if param is None else 400
    return ApiError(
        status, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def check(value: Any, schema: Any, name: str = "") -> None:
    """Refuse what Stripe refuses: unknown parameters, hashes where values belong and the reverse.

    Parameters that real Stripe knows but this fake does not model are missing from the schemas
    on purpose: they are refused with a message saying so, rather than silently ignored.
    """
    if schema == ANY:
        return
    if schema == META:
        check_metadata(value, name)
        return
    if schema == LEAF:
        if isinstance(value, dict | list):
            raise invalid(f"Invalid string: {name} must be a value, not a hash or an array", name)
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise invalid(f"Invalid array: {name}", name)
        for index, item in enumerate(value):
            check(item, schema[0], f"{name}[{index}]")
        return
    if value == "":  # `param=` clears a hash
        return
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {name}", name)
    for key, item in value.items():
        full = f"{name}[{key}]" if name else key
        if key not in schema:
            raise invalid(
                f"Received unknown parameter: {full} (fake_stripe does not model it; "
                "if it is a real Stripe parameter, teach infra/local/fake_stripe about it)",
                full,
            )
        check(item, schema[key], full)


def check_metadata(value: Any, name: str) -> None:
    if value == "":
        return
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {name}", name)
    if len(value) > 50:
        raise invalid("Invalid metadata: metadata can have up to 50 keys", name)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"Invalid metadata: {name}[{key}] must be a string (nested metadata is not allowed)", name)
        if len(key) > 40:
            raise invalid(f"Invalid metadata: keys can be up to 40 characters long ({key!r})", f"{name}[{key}]")
        if len(item) > 500:
            raise invalid(f"Invalid metadata: values can be up to 500 characters long ({key!r})", f"{name}[{key}]")


def metadata(value: Any) -> dict[str, str]:
    """Metadata as stored: empty values unset their key."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v != ""}


def required(params: Json, name: str, label: str | None = None) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise invalid(f"Missing required param: {label or name}.", label or name)
    return value


def integer(value: Any, name: str, minimum: int | None = None) -> int:
    if not isinstance(value, str | int) or not re.fullmatch(r"-?\d+", str(value)):
        raise invalid(f"Invalid integer: {value}", name)
    number = int(value)
    if minimum is not None and number < minimum:
        kind = "positive integer" if minimum == 1 else "non-negative integer"
        raise invalid(f"Invalid {kind}: {name} must be at least {minimum}", name)
    return number


def optional_integer(params: Json, name: str, minimum: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return integer(value, name, minimum)


def boolean(params: Json, name: str) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return False
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", name)
    return bool(value == "true")


def choice(params: Json, name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise invalid(f"Invalid {name}: must be one of {', '.join(allowed)}", name)
    return str(value)


def currency(value: Any, name: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise invalid(f"Invalid currency: {value}", name)
    return value.lower()


def url(params: Json, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise invalid("Not a valid URL", name)
    return value
