"""The API's typed models: base classes, shared field types and the one translation of their errors.

Every request body, query string and response body is a pydantic model built from these
pieces, so the constraints a request is checked against and the ones `/v1/openapi.json`
publishes are the same objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.validation import calendar_date, is_currency, is_email, is_timezone

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
MAX_BODY_BYTES = 256 * 1024
MAX_JSON_DEPTH = 16  # DynamoDB refuses documents nested beyond 32 levels
FIRST_YEAR, LAST_YEAR = 1970, 2199  # far enough for any booking, near enough for datetime arithmetic
READ_ONLY = frozenset({"id", "createdAt", "updatedAt", "version"})


def _is_none(value: Any) -> bool:
    return value is None


def omitted(**kwargs: Any) -> Any:
    """A response field left out of the JSON (not sent as null) when it has no value."""
    return Field(None, exclude_if=_is_none, **kwargs)


class Body(BaseModel):
    """A request or response body. Requests: camelCase only, strict JSON types, an unknown field
    is a 400 naming it. Responses are read straight from the domain dataclass (`of`), whose
    attribute names the fields share."""

    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", strict=True, str_strip_whitespace=True, defer_build=True
    )

    @classmethod
    def of(cls, source: Any, **extra: Any) -> Self:
        """The response for a domain object; `extra` supplies fields the object does not have."""
        if isinstance(source, dict):
            source = source | extra
        elif extra:
            source = {name: getattr(source, name) for name in cls.model_fields if hasattr(source, name)} | extra
        return cls.model_validate(source, from_attributes=True, by_name=True, strict=False)

    def json_body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


Item = TypeVar("Item", bound=Body)


class Paged(Body, Generic[Item]):
    """A page of a list; `Paged[Service]` is published as `ServicePage`."""

    items: list[Item]
    next_cursor: str | None = Field(description="`cursor` for the next page; null on the last")

    @classmethod
    def model_parametrized_name(cls, params: tuple[type[Any], ...]) -> str:
        return f"{params[0].__name__}Page"


@dataclass(frozen=True)
class File:
    """An answer as a download (a report as CSV or PDF) instead of JSON."""

    content: bytes | str
    media: str
    filename: str


class Query(Body):
    """A query string: every value arrives as text, so numbers are parsed from it."""

    model_config = ConfigDict(extra="ignore", strict=False, str_strip_whitespace=False)


def problems(found: Mapping[Loc, str], also: pydantic.ValidationError | None = None) -> pydantic.ValidationError:
    """Several rule violations at once, each at its own path, plus the errors of `also` (raised
    inside a validator, the paths continue the path of the value being validated)."""
    earlier = [(tuple(e["loc"]), e["type"], e["msg"]) for e in also.errors()] if also else []
    lines = earlier + [(loc, "rule", message) for loc, message in found.items()]
    return pydantic.ValidationError.from_exception_data(
        "rules",
        [InitErrorDetails(type=PydanticCustomError(kind, msg), loc=loc, input=None) for loc, kind, msg in lines],
    )


def _checked(check: Any, problem: str) -> AfterValidator:
    def validate(value: str | None) -> str | None:
        if value is not None and not check(value):
            raise PydanticCustomError("format", problem)
        return value

    return AfterValidator(validate)


def _plain_text(value: str | None) -> str | None:
    """Refuses what no name or note should hold and the store cannot encode: control characters
    and lone UTF-16 surrogates."""
    if value is not None and any(
        ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value if ch not in "\t"
    ):
        raise PydanticCustomError("text", "must not contain control characters or lone surrogates")
    return value


PlainText = AfterValidator(_plain_text)


def _unique(values: list[Any] | None) -> list[Any] | None:
    if values is not None and len(set(values)) != len(values):
        raise PydanticCustomError("unique", "must not repeat an item")
    return values


Unique = AfterValidator(_unique)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        parsed = from_iso(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise PydanticCustomError("instant", "must be an ISO-8601 instant with an offset, e.g. 2027-03-14T14:00:00Z")
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise PydanticCustomError("instant", f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return parsed


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    day = calendar_date(value) if isinstance(value, str) else None
    if day is None:
        raise PydanticCustomError("date", "must be YYYY-MM-DD")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise PydanticCustomError("date", f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    PlainSerializer(to_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "UTC, `Z` suffix on output"}),
]
Day = Annotated[
    date,
    PlainValidator(_day),
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=120), PlainText]
Label = Annotated[str, Field(min_length=1, max_length=200), PlainText]
Note = Annotated[str, Field(max_length=500), PlainText]
Timezone = Annotated[
    str,
    Field(max_length=64, description="IANA timezone name", examples=["America/New_York"]),
    _checked(is_timezone, "must be an IANA timezone name, e.g. America/New_York"),
]
Currency = Annotated[
    str,
    Field(pattern="^[A-Z]{3}$", description="ISO 4217 code, upper case", examples=["USD"]),
    _checked(is_currency, "must be an upper-case ISO 4217 code, e.g. USD"),
]
Email = Annotated[str, Field(max_length=254, examples=["ada@example.com"]), _checked(is_email, "must be an email")]
Cents = Annotated[int, Field(ge=0, le=100_000_000, description="minor units of `currency`")]
# HH:MM wall-clock time on a 5-minute boundary in the owner's timezone; an end may be 24:00.
WallStart = Annotated[str, Field(pattern="^([01][0-9]|2[0-3]):[0-5][05]$", examples=["09:00"])]
WallEnd = Annotated[str, Field(pattern="^(([01][0-9]|2[0-3]):[0-5][05]|24:00)$", examples=["17:00"])]


class Page(Query):
    """`?limit=` (default 50, at most 200) and the opaque `cursor` of the previous page."""

    limit: int = Field(50, ge=1, le=200, description="page size", strict=False)
    cursor: str | None = Field(None, max_length=500, description="`nextCursor` of the previous page")


# --- reading a request ---------------------------------------------------------------------


def _path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


# Pydantic's wording, except where it would name an internal class.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}


def field_problems(error: pydantic.ValidationError) -> dict[str, str]:
    """`details.fields`: JSON path -> problem, every problem pydantic found."""
    fields: dict[str, str] = {}
    for line in error.errors(include_url=False, include_input=False):
        fields.setdefault(_path(tuple(line["loc"])), _MESSAGES.get(line["type"], line["msg"]))
    return fields


def validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or the API's 400 naming each problem under its JSON path."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError("Some fields are invalid.", {"fields": field_problems(exc)}) from exc


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def parse_json_object(raw: bytes | str | None) -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400 naming the problem."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError("Request body is too large.", {"limitBytes": MAX_BODY_BYTES})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError("Request body is not valid JSON.", {"body": "malformed JSON"}) from exc
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object.", {"body": "expected an object"})
    if _depth(body) > MAX_JSON_DEPTH:
        raise ValidationError("Request body is nested too deeply.", {"body": f"deeper than {MAX_JSON_DEPTH} levels"})
    return body


def patched(model: type[M], current: Body, patch: Body) -> M:
    """PATCH: the current resource's JSON with the fields the client sent replaced, checked whole."""
    changed = patch.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return validated(model, {k: v for k, v in current.json_body().items() if k not in READ_ONLY} | changed)


def _optional(info: pydantic.fields.FieldInfo) -> Any:
    kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return kind | None


def partial(model: type[M]) -> type[Body]:
    """`model` with every field optional and no cross-field rules: the body of a PATCH, checked
    field by field before it is merged with the current resource and checked whole. The read-only
    fields a GET returns are accepted and ignored, so a client may send back what it read."""
    fields: dict[str, Any] = {
        name: (_optional(info), Field(None, description=info.description)) for name, info in model.model_fields.items()
    }

    class PatchBody(Body):
        @pydantic.model_validator(mode="before")
        @classmethod
        def _ignore_read_only(cls, data: Any) -> Any:
            return {k: v for k, v in data.items() if k not in READ_ONLY} if isinstance(data, dict) else data

    patch: type[Body] = pydantic.create_model(f"{model.__name__}Patch", __base__=PatchBody, **fields)
    patch.__doc__ = f"Any fields of {model.__name__}; the others keep their values."
    return patch
