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
            if wanted is None:
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
