"""The response check every API test runs through (tests/contract.py) catches drift."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.contract import contract_problems, served_document


@pytest.fixture(scope="module")
def document(emulator: object) -> dict[str, Any]:
    return served_document()


def _raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def test_a_declared_answer_passes(api: Api, tenant: dict, document: dict[str, Any]) -> None:
    response = api.client.http.get("/v1/admin/tenant", headers={"Authorization": f"Bearer {tenant['secretKey']}"})

    assert contract_problems(document, "GET", "/v1/admin/tenant", 200, response.body) == []


def test_an_undeclared_response_field_fails(api: Api, tenant: dict, document: dict[str, Any]) -> None:
    response = api.client.http.get("/v1/admin/tenant", headers={"Authorization": f"Bearer {tenant['secretKey']}"})
    padded = {**json.loads(response.body), "internalNote": "x"}

    problems = contract_problems(document, "GET", "/v1/admin/tenant", 200, _raw(padded))

    assert len(problems) == 1 and "internalNote" in problems[0]


def test_a_missing_or_mistyped_response_field_fails(api: Api, tenant: dict, document: dict[str, Any]) -> None:
    response = api.client.http.get("/v1/admin/tenant", headers={"Authorization": f"Bearer {tenant['secretKey']}"})
    body = json.loads(response.body)
    del body["version"]
    body["createdAt"] = "2027-03-14 14:00"

    problems = contract_problems(document, "GET", "/v1/admin/tenant", 200, _raw(body))

    assert len(problems) == 2


def test_an_undeclared_status_fails(document: dict[str, Any]) -> None:
    error = {"error": {"code": "token_gone", "message": "gone", "details": {}}}

    problems = contract_problems(document, "GET", "/v1/admin/tenant", 410, _raw(error))

    assert problems and "does not declare" in problems[0]


def test_an_error_answer_must_have_the_error_shape(document: dict[str, Any]) -> None:
    assert contract_problems(document, "GET", "/v1/admin/tenant", 401, _raw({"message": "no"})) != []


def test_an_unknown_path_must_answer_404_in_the_error_shape(document: dict[str, Any]) -> None:
    not_found = {"error": {"code": "not_found", "message": "No such route.", "details": {}}}

    assert contract_problems(document, "GET", "/v1/nowhere", 404, _raw(not_found)) == []
    assert contract_problems(document, "GET", "/v1/nowhere", 200, _raw({})) != []
    assert contract_problems(document, "GET", "/v1/nowhere", 404, b'{"Code": "NotFound"}') != []


def test_a_204_must_have_no_body(document: dict[str, Any]) -> None:
    path = "/v1/admin/services/svc_1"

    assert contract_problems(document, "DELETE", path, 204, b"") == []
    assert contract_problems(document, "DELETE", path, 204, b"{}") != []
