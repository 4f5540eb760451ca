"""GET /v1/openapi.json describes exactly the routes the app serves."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR

Operation = tuple[str, str]  # (METHOD, path with camelCase parameters)
SECURITY_BY_PREFIX = {
    "/v1/platform/": "platformKey",
    "/v1/admin/": "secretKey",
    "/v1/public/": "publishableKey",
}


@pytest.fixture(scope="module")
def document(emulator: object) -> dict[str, Any]:
    """The served document; serving it reads no storage, so one fetch serves the module."""
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        status, body = Api(client).call("GET", "/v1/openapi.json")
    assert status == 200, body
    return dict(body)


def _camel_param(match: re.Match[str]) -> str:
    first, *rest = match.group(1).split("_")
    return "{" + first + "".join(word[:1].upper() + word[1:] for word in rest) + "}"


def registered_operations(routes: Mapping[str, Mapping[str, Any]]) -> set[Operation]:
    """Chalice's `app.routes` (path -> method -> entry) with `{service_id}` spelled `{serviceId}`."""
    return {
        (method.upper(), re.sub(r"{(\w+)}", _camel_param, path))
        for path, methods in routes.items()
        if path.startswith("/v1/")  # the JSON contract; the HTML pages (/book, /manage, /static) are not part of it
        for method in methods
    }


def documented_operations(document: Mapping[str, Any]) -> set[Operation]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item if method in methods}


def route_differences(routes: Mapping[str, Mapping[str, Any]], document: Mapping[str, Any]) -> dict[str, list[str]]:
    registered = registered_operations(routes)
    documented = documented_operations(document)
    return {
        "served but not documented": sorted(f"{m} {p}" for m, p in registered - documented),
        "documented but not served": sorted(f"{m} {p}" for m, p in documented - registered),
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# --- the document itself ---------------------------------------------------------------------


def test_the_document_is_served_without_credentials_as_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert isinstance(document["info"]["title"], str) and document["info"]["title"]
    assert isinstance(document["info"]["version"], str) and document["info"]["version"]
    assert document["paths"]


def test_the_document_passes_the_openapi_3_1_validator(document: dict[str, Any]) -> None:
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]

    assert errors == []


def test_every_reference_points_at_a_defined_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    dangling = {ref for ref in _refs(document) if ref.removeprefix("#/components/schemas/") not in schemas}

    assert dangling == set()


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]

    assert len(ids) == len(set(ids))


def test_path_parameters_are_camel_case_and_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        for name in names:
            assert "_" not in name, path
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert declared == set(names), (method, path)


def test_each_operation_requires_the_credential_of_its_audience(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        wanted = next((scheme for prefix, scheme in SECURITY_BY_PREFIX.items() if path.startswith(prefix)), None)
        for method, operation in item.items():
            schemes = {name for requirement in operation.get("security", []) for name in requirement}
            if wanted is None or method == "options":  # a CORS preflight carries no credential (Fetch spec)
                continue
            assert schemes == {wanted}, (method, path)
            assert wanted in document["components"]["securitySchemes"]


# --- the document against the app's route table ----------------------------------------------


def test_every_served_route_is_documented_and_every_documented_route_is_served(document: dict[str, Any]) -> None:
    from app import app

    differences = route_differences(app.routes, document)

    assert differences == {"served but not documented": [], "documented but not served": []}


def test_the_comparison_notices_a_route_missing_from_the_document(document: dict[str, Any]) -> None:
    from app import app

    trimmed = copy.deepcopy(document)
    del trimmed["paths"]["/v1/admin/services/{serviceId}"]["patch"]

    differences = route_differences(app.routes, trimmed)

    assert "PATCH /v1/admin/services/{serviceId}" in differences["served but not documented"]


def test_the_comparison_notices_a_documented_route_that_is_not_served(document: dict[str, Any]) -> None:
    from app import app

    padded = copy.deepcopy(document)
    padded["paths"]["/v1/admin/widgets/{widgetId}"] = {"get": {"responses": {"200": {"description": "x"}}}}

    differences = route_differences(app.routes, padded)

    assert differences["documented but not served"] == ["GET /v1/admin/widgets/{widgetId}"]


def test_snake_case_chalice_parameters_are_compared_in_camel_case() -> None:
    routes = {"/v1/admin/providers/{provider_id}/overrides/{override_id}": {"DELETE": object()}}

    assert registered_operations(routes) == {("DELETE", "/v1/admin/providers/{providerId}/overrides/{overrideId}")}


# --- what the document describes ----------------------------------------------------------------


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(document["components"]["schemas"][name])


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(document["paths"][path][method])


def _body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    ref = _operation(document, method, path)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return _schema(document, ref.rsplit("/", 1)[1])


def _query(document: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in _operation(document, method, path)["parameters"] if p["in"] == "query"}


def test_the_fields_that_drifted_are_described(document: dict[str, Any]) -> None:
    drifted = {
        "Appointment": {"serviceName", "amountDueNowCents", "holdUntil", "cancelReason", "createdAt", "updatedAt"},
        "Provider": {"version"},
        "Refund": {"stripeRefundId", "failure"},
        "DateOverride": {"providerId"},
        "AdminCancel": {"refund"},
        "TokenReschedule": {"providerId"},
    }

    missing = {name: fields - set(_schema(document, name)["properties"]) for name, fields in drifted.items()}

    assert missing == {name: set() for name in drifted}


def test_duration_is_a_multiple_of_5_up_to_1440(document: dict[str, Any]) -> None:
    duration = _schema(document, "NewService")["properties"]["durationMinutes"]

    assert (duration["multipleOf"], duration["minimum"], duration["maximum"]) == (5, 5, 1440)


def test_a_clients_phone_may_be_null(document: dict[str, Any]) -> None:
    phone = _schema(document, "Client")["properties"]["phone"]

    assert {"type": "null"} in phone["anyOf"]


def test_query_parameters_are_described_with_their_meaning(document: dict[str, Any]) -> None:
    availability = _query(document, "get", "/v1/public/services/{serviceId}/availability")
    listing = _query(document, "get", "/v1/admin/appointments")
    public_read = _query(document, "get", "/v1/public/appointments/{appointmentId}")

    assert {name for name, p in availability.items() if p["required"]} == {"start", "end", "timezone"}
    assert "providerId" in availability and "inclusive" in availability["end"]["description"]
    assert {"from", "to", "status", "providerId", "serviceId", "limit", "cursor"} <= set(listing)
    assert listing["limit"]["schema"]["maximum"] == 200
    assert "token" in public_read["token"]["description"]
    assert all(p["description"] for p in [*availability.values(), *listing.values()])


@pytest.mark.parametrize("action", ["", "/cancel", "/reschedule"])
def test_the_self_service_routes_take_the_token_in_the_x_manage_token_header(
    document: dict[str, Any], action: str
) -> None:
    path = "/v1/public/appointments/{appointmentId}" + action
    operation = _operation(document, "post" if action else "get", path)

    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}

    assert headers == {"x-manage-token"}


def test_day_of_week_and_wall_clock_times_say_what_they_mean(document: dict[str, Any]) -> None:
    rule = _schema(document, "Rule-Input")["properties"]

    assert "0 = Monday" in rule["dayOfWeek"]["description"]
    assert rule["start"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][05]$"


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/v1/public/appointments/{appointmentId}", {"410"}),
        ("post", "/v1/public/appointments/{appointmentId}/cancel", {"410", "415"}),
        ("post", "/v1/public/appointments/{appointmentId}/reschedule", {"409", "410", "422"}),
        ("post", "/v1/public/appointments", {"409", "422", "503"}),
        ("post", "/v1/platform/tenants", {"401", "409"}),
    ],
)
def test_the_statuses_a_route_can_answer_are_declared(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    responses = _operation(document, method, path)["responses"]

    assert statuses <= set(responses)
    for status in statuses:
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_security_schemes_name_the_exact_headers(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]

    assert schemes["publishableKey"] == {**schemes["publishableKey"], "in": "header", "name": "X-Tenant-Key"}
    assert "Authorization: Bearer sk_" in schemes["secretKey"]["description"]
    assert "PLATFORM_API_KEY" in schemes["platformKey"]["description"]


def test_there_is_a_server_entry(document: dict[str, Any]) -> None:
    assert document["servers"] and document["servers"][0]["url"].startswith("http")


def test_every_operation_has_an_example_for_each_json_body(document: dict[str, Any]) -> None:
    missing = [
        (method, path, where)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for where, content in [
            ("request", operation.get("requestBody", {}).get("content", {})),
            *[(status, r.get("content", {})) for status, r in operation["responses"].items() if status < "300"],
        ]
        if any("example" not in media for media in content.values())
    ]

    assert missing == []


def test_request_examples_are_accepted_by_the_models_they_describe(document: dict[str, Any]) -> None:
    from chalicelib.api.model_types import validated
    from chalicelib.api.routing import OPERATIONS, camel_path

    for op in [op for op in OPERATIONS if op.body]:
        content = _operation(document, op.method.lower(), camel_path(op.path))["requestBody"]["content"]
        validated(op.body, content["application/json"]["example"])


# --- the browsable reference ---------------------------------------------------------------------


def test_the_reference_page_lists_every_operation_and_schema_without_external_assets(
    api: Api, document: dict[str, Any]
) -> None:
    response = api.client.http.get("/v1/docs")
    page = response.body.decode()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert all(f">{path}<" in page for path in document["paths"] if path != "/v1/docs")
    assert all(f'id="schema-{name}"' in page for name in document["components"]["schemas"])
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)


def test_created_and_listed_resources_link_to_the_operations_on_them(document: dict[str, Any]) -> None:
    """The links are what schemathesis' stateful run (and a client) follows; each must name a real
    operation and only parameters that operation takes."""
    operations = {op["operationId"]: op for methods in document["paths"].values() for op in methods.values()}
    links = {
        (method, path, name): link
        for path, methods in document["paths"].items()
        for method, op in methods.items()
        for answer in op["responses"].values()
        for name, link in answer.get("links", {}).items()
    }
    for (method, path, _), link in links.items():
        target = operations[link["operationId"]]
        taken = {f"{p['in']}.{p['name']}" for p in target["parameters"]}
        assert set(link["parameters"]) <= taken, (method, path, link)
    provider = links[("post", "/v1/admin/providers", "delete_v1_admin_providers__provider_id_")]
    assert provider["parameters"] == {"path.providerId": "$response.body#/id"}
    override = links[
        (
            "post",
            "/v1/admin/providers/{providerId}/overrides",
            "delete_v1_admin_providers__provider_id__overrides__override_id_",
        )
    ]
    assert override["parameters"] == {
        "path.overrideId": "$response.body#/id",
        "path.providerId": "$request.path.providerId",
    }
    booked = links[("post", "/v1/public/appointments", "post_v1_public_appointments__appointment_id__cancel")]
    assert booked["parameters"] == {
        "path.appointmentId": "$response.body#/appointment/id",
        "header.x-manage-token": "$response.body#/manage/token",
    }
    listed = links[("get", "/v1/public/services", "get_v1_public_services__service_id__availability")]
    assert listed["parameters"] == {"path.serviceId": "$response.body#/items/0/id"}
