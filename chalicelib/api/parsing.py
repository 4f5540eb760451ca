"""Reading JSON request bodies into typed values while collecting every field error at once.

A client that sends five bad fields hears about all five, each under its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.validation import is_currency, is_email, is_timezone, minutes_of_day

T = TypeVar("T")
_MISSING = object()
MAX_BODY_BYTES = 256 * 1024


def parse_json_object(raw: bytes | None) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400 naming the problem."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError("Request body is too large.", {"limitBytes": MAX_BODY_BYTES})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("Request body is not valid JSON.", {"body": "malformed JSON"}) from exc
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object.", {"body": "expected an object"})
    return body


class FieldErrors:
    """Collects `path -> problem`; `raise_if_any` turns them into one ValidationError."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def add(self, path: str, problem: str) -> None:
        self.problems.setdefault(path, problem)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError("Some fields are invalid.", {"fields": dict(self.problems)})


class Reader:
    """Typed accessors over one JSON object; each records a problem instead of raising."""

    def __init__(self, data: Any, errors: FieldErrors, path: str = "") -> None:
        self.errors = errors
        self.path = path
        # A non-object is reported once, at its own path, not again as each field it lacks.
        self.is_object = isinstance(data, dict)
        if isinstance(data, dict):
            self.data: dict[str, Any] = data
        else:
            self.data = {}
            errors.add(path or "body", "expected an object")

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required and self.is_object:
                self.errors.add(self.at(name), "is required")
            return _MISSING
        return value

    def string(
        self, name: str, *, required: bool = True, max_length: int = 200, default: str | None = None
    ) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.errors.add(self.at(name), "must be a string")
            return default
        value = value.strip()
        if required and not value:
            self.errors.add(self.at(name), "must not be empty")
            return default
        if len(value) > max_length:
            self.errors.add(self.at(name), f"must be at most {max_length} characters")
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> int | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.add(self.at(name), "must be an integer")
            return default
        if minimum is not None and value < minimum:
            self.errors.add(self.at(name), f"must be >= {minimum}")
            return default
        if maximum is not None and value > maximum:
            self.errors.add(self.at(name), f"must be <= {maximum}")
            return default
        return int(value)

    def boolean(self, name: str, *, required: bool = True, default: bool | None = None) -> bool | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.errors.add(self.at(name), "must be true or false")
            return default
        return value

    def checked(
        self,
        name: str,
        check: Callable[[str], bool],
        problem: str,
        *,
        required: bool = True,
        default: str | None = None,
        max_length: int = 200,
    ) -> str | None:
        value = self.string(name, required=required, max_length=max_length)
        if value is None:
            return default
        if not check(value):
            self.errors.add(self.at(name), problem)
            return default
        return value

    def timezone(self, name: str, *, required: bool = True) -> str | None:
        return self.checked(
            name, is_timezone, "must be an IANA timezone name, e.g. America/New_York", required=required, max_length=64
        )

    def currency(self, name: str, *, required: bool = True) -> str | None:
        value = self.string(name, required=required, max_length=3)
        if value is None:
            return None
        if not is_currency(value.upper()) or value != value.upper():
            self.errors.add(self.at(name), "must be an upper-case ISO 4217 code, e.g. USD")
            return None
        return value

    def email(self, name: str, *, required: bool = True) -> str | None:
        return self.checked(name, is_email, "must be an email address", required=required, max_length=254)

    def time_of_day(self, name: str, *, allow_24: bool = False) -> str | None:
        value = self.string(name)
        if value is None:
            return None
        if minutes_of_day(value, allow_24=allow_24) is None:
            self.errors.add(self.at(name), "must be HH:MM" + (" (or 24:00)" if allow_24 else ""))
            return None
        return value

    def items(self, name: str, *, required: bool = True, max_items: int = 100) -> list[Reader] | None:
        """Each element of a list of objects as its own Reader."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.errors.add(self.at(name), "must be a list")
            return None
        if len(value) > max_items:
            self.errors.add(self.at(name), f"must have at most {max_items} items")
            return None
        return [Reader(item, self.errors, f"{self.at(name)}[{i}]") for i, item in enumerate(value)]

    def strings(
        self, name: str, *, required: bool = True, max_items: int = 100, max_length: int = 200
    ) -> list[str] | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.errors.add(self.at(name), "must be a list of non-empty strings")
            return None
        if len(value) > max_items or any(len(v) > max_length for v in value):
            self.errors.add(self.at(name), f"must have at most {max_items} items of {max_length} characters")
            return None
        return [v.strip() for v in value]

    def integers(
        self, name: str, *, required: bool = True, minimum: int = 0, maximum: int | None = None, max_items: int = 20
    ) -> list[int] | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.errors.add(self.at(name), "must be a list of integers")
            return None
        if len(value) > max_items:
            self.errors.add(self.at(name), f"must have at most {max_items} items")
            return None
        if any(v < minimum or (maximum is not None and v > maximum) for v in value):
            self.errors.add(self.at(name), f"every item must be between {minimum} and {maximum}")
            return None
        return list(value)

    def obj(self, name: str, *, required: bool = True) -> Reader | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        return Reader(value, self.errors, self.at(name))

    def raw(self, name: str) -> Any:
        return self.data.get(name)
