"""OpenAPI 3.1 generated from the route table and the models it names (served by `openapi.py`).

Nothing here describes a field or a route by hand: schemas come from the pydantic models the
routes validate and serialise with, statuses from each route's declaration, so the document
cannot drift from what is served.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from chalicelib import config
from chalicelib.api import cors
from chalicelib.api.model_types import Body
from chalicelib.api.report_files import csv_text
from chalicelib.api.routing import OPERATIONS, Operation, camel_path

REF = "#/components/schemas/{model}"
ERRORS = {
    400: "Malformed input: `invalid_request`, `details.fields` maps each JSON path to its problem",
    401: "Missing or invalid credentials: `unauthorized`",
    403: "The credential lacks the right (e.g. a publishable key on an admin route): `forbidden`",
    404: "No such resource for this tenant (another tenant's ids too): `not_found`",
    409: "Conflicts with the current state: `conflict`, `slot_unavailable`, `concurrent_update`, "
    "`idempotency_key_reused`",
    410: "The action token expired, was used or was replaced: `token_gone`",
    415: "The body was not sent as `Content-Type: application/json`: `unsupported_media_type`",
    422: "Well-formed but breaks a business rule: `rule_violation`, `outside_availability`, "
    "`payment_required`, `payments_not_configured`, `refund_exceeds_paid`, `card_declined`, "
    "`invoice_incomplete` (`details.missing` names the fields), `not_invoiceable`",
    429: "Too many requests: `rate_limited`, see `Retry-After`",
    500: "A fault on our side: `internal_error`, no internals in the body",
    503: "Stripe is unavailable or not configured here: `upstream_unavailable`, `payments_unavailable`",
}
SECURITY = {"platform": "platformKey", "admin": "secretKey", "public": "publishableKey"}
SECURITY_SCHEMES = {
    "platformKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <PLATFORM_API_KEY>`: the platform operator, `/v1/platform/*` only",
    },
    "secretKey": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer sk_...`: a tenant admin"},
    "publishableKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tenant-Key",
        "description": "`X-Tenant-Key: pk_...`: names the tenant, grants public operations only",
    },
}


class ErrorDetail(Body):
    code: str = Field(description="stable machine-readable name", examples=["invalid_request"])
    message: str = Field(description="a sentence for humans")
    details: dict[str, Any] = Field(description="`fields` (path -> problem) for 400; instants are UTC with `Z`")


class Error(Body):
    """Every error answer of the API."""

    error: ErrorDetail


class ContractSchema(GenerateJsonSchema):
    """Responses always carry every field except the ones marked `omitted`, so they are required;
    `Paged[Service]` is published under its title, `ServicePage`."""

    def normalize_name(self, name: str) -> str:
        return super().normalize_name(re.sub(r"Paged\[(\w+)\]", r"\1Page", name))

    def field_is_required(
        self, field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField, total: bool
    ) -> bool:
        if self.mode == "serialization":
            return "serialization_exclude_if" not in field
        return super().field_is_required(field, total)


def example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value that satisfies `schema`: its examples, default or bounds, else a placeholder of its type."""
    if "$ref" in schema:
        return example(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "examples" in schema:
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "enum" in schema or "const" in schema:
        return schema.get("enum", [schema.get("const")])[0]
    if "anyOf" in schema:
        return example(next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0]), defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(props[name], defs) for name in schema.get("required", props)}
    if kind == "array":
        return [example(schema["items"], defs)] if schema.get("minItems") else []
    if kind == "integer":
        return max(schema.get("minimum", 0), schema.get("multipleOf", 1) if schema.get("multipleOf") else 0)
    if kind == "boolean":
        return False
    return {"date-time": "2027-03-14T14:00:00Z", "date": "2027-03-14"}.get(schema.get("format", ""), "string")


def _parameters(op: Operation, defs: dict[str, Any], keys: dict[Any, Any]) -> list[dict[str, Any]]:
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": f"the {name[:-2]}'s id",
            "schema": {"type": "string"},
        }
        for name in re.findall(r"{(\w+)}", camel_path(op.path))
    ]
    for where, model in (("query", op.query), ("header", op.header)):
        found = defs[keys[(model, "validation")]["$ref"].rsplit("/", 1)[1]] if model else {}
        for name, schema in found.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": where,
                    "required": name in found.get("required", []),
                    "description": schema.get("description", name),
                    "schema": {k: v for k, v in schema.items() if k not in ("title", "description")},
                }
            )
    return params


def _properties(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    found: dict[str, Any] = schema.get("properties", {})
    return found


def _id_pointer(answer: dict[str, Any], resource: str, defs: dict[str, Any]) -> str | None:
    """Where an answer holds the id of a `resource` (`"service"`): `/id`, `/items/0/id` or `/service/id`."""
    props = _properties(answer, defs)
    if "id" in props:
        return "/id"
    if "id" in _properties(props.get("items", {}).get("items", {}), defs):
        return "/items/0/id"
    if "id" in _properties(props.get(resource, {}), defs):
        return f"/{resource}/id"
    return None


def _links(
    op: Operation, answer: dict[str, Any], operations: dict[str, tuple[str, dict[str, Any]]], defs: dict[str, Any]
) -> dict[str, Any]:
    """OpenAPI links from an answer to the operations on the resources it names, derived from the paths:
    `POST /v1/admin/services` answers a service whose `id` is the `{serviceId}` of
    `/v1/admin/services/{serviceId}...`; a booking's `manage.token` is the `X-Manage-Token` of the
    appointment's public routes. Clients (and schemathesis' stateful run) follow them."""
    links: dict[str, Any] = {}
    collection = camel_path(op.path)
    for target_id, (path, target) in operations.items():
        head, _, rest = path.partition(collection + "/{")
        if head or not rest:
            continue
        name = rest.split("}", 1)[0]
        pointer = _id_pointer(answer, name.removesuffix("Id"), defs)
        if pointer is None:
            continue
        parameters = {f"path.{name}": f"$response.body#{pointer}"}
        for known in re.findall(r"{(\w+)}", collection):
            parameters[f"path.{known}"] = f"$request.path.{known}"
        headers = {p["name"] for p in target["parameters"] if p["in"] == "header"}
        if "x-manage-token" in headers and "token" in _properties(_properties(answer, defs).get("manage", {}), defs):
            parameters["header.x-manage-token"] = "$response.body#/manage/token"
        links[target_id] = {"operationId": target_id, "parameters": parameters}
    return links


def _json(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema, "example": example(schema, defs)}}


def _file(media: str, sample: Any) -> dict[str, Any]:
    """A download a route offers besides JSON (`?format=csv|pdf`); the CSV example is the JSON
    example's rows, as the route writes them."""
    if media == "text/csv":
        rows = sample.get("rows", []) if isinstance(sample, dict) else []
        example = csv_text(list(rows[0]) if rows else [], rows)
        return {
            "schema": {"type": "string", "description": "RFC 4180; the header row is the rows' fields"},
            "example": example,
        }
    return {
        "schema": {"type": "string", "format": "binary", "description": "a one-page summary"},
        "example": "%PDF-1.3",
    }


def openapi_document(served: set[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The document for the operations in `served` ((METHOD, Chalice path)), all when None."""
    ops = [op for op in OPERATIONS if served is None or (op.method, op.path) in served]
    wanted: list[tuple[type[Body], JsonSchemaMode]] = [(Error, "serialization")]
    wanted += [(op.body, "validation") for op in ops if op.body]
    wanted += [(op.query, "validation") for op in ops if op.query]
    wanted += [(op.header, "validation") for op in ops if op.header]
    wanted += [(op.response, "serialization") for op in ops if op.response]
    keys, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF, schema_generator=ContractSchema)
    defs: dict[str, Any] = top.get("$defs", {})
    error = {"description": "", "content": {"application/json": {"schema": keys[(Error, "serialization")]}}}
    paths: dict[str, dict[str, Any]] = {}
    operations: dict[str, tuple[str, dict[str, Any]]] = {}
    for op in ops:
        responses: dict[str, Any] = {}
        for status in op.statuses:
            if status == op.status and op.media != "application/json":
                page = {op.media: {"schema": {"type": "string"}, "example": "<!doctype html>"}}
                responses[str(status)] = {"description": op.summary, "content": page}
            elif status == op.status or status in op.also:
                body = _json(keys[(op.response, "serialization")], defs) if op.response else None
                if body is not None:
                    body |= {media: _file(media, body["application/json"]["example"]) for media in op.files}
                responses[str(status)] = {"description": op.summary, **({"content": body} if body else {})}
            else:
                responses[str(status)] = {**error, "description": ERRORS[status]}
        if cors.applies_to(op.path):
            described = cors.PREFLIGHT_HEADERS if op.method == "OPTIONS" else cors.RESPONSE_HEADERS
            for response in responses.values():
                response["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}} for name, text in described.items()
                }
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.method.lower()}{re.sub(r'[^A-Za-z0-9]', '_', op.path)}",
            "security": [{SECURITY[op.auth]: []}] if op.auth in SECURITY else [],
            "parameters": _parameters(op, defs, keys),
            "responses": responses,
        }
        if op.body:
            operation["requestBody"] = {"required": True, "content": _json(keys[(op.body, "validation")], defs)}
        paths.setdefault(camel_path(op.path), {})[op.method.lower()] = operation
        operations[operation["operationId"]] = (camel_path(op.path), operation)
    for op in ops:
        if op.response and (links := _links(op, keys[(op.response, "serialization")], operations, defs)):
            operation = paths[camel_path(op.path)][op.method.lower()]
            operation["responses"][str(op.status)]["links"] = links
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scheduling API",
            "version": "1.0.0",
            "description": "JSON in and out, camelCase fields; instants are UTC with `Z`; wall-clock rules are "
            "`HH:MM` in the owner's timezone; dates are `YYYY-MM-DD` and date ranges are inclusive; money is "
            "an integer in minor units with an ISO 4217 `currency`. See docs/api.md.",
        },
        "servers": [{"url": config.public_base_url(), "description": "this deployment"}],
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": SECURITY_SCHEMES},
    }
