"""The tenant's `allowedOrigins`: what may frame `/embed/{slug}` and call `/v1/public/*` by CORS."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.origins import OriginError, allowed_origin, normalise_origin
from tests.api.conftest import Api

SETTINGS = "/v1/admin/tenant"


def test_a_new_tenant_allows_no_origin(api: Api, tenant: dict[str, Any]) -> None:
    status, body = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 200
    assert body["allowedOrigins"] == []


def test_allowed_origins_are_stored_normalised_and_read_back(api: Api, tenant: dict[str, Any]) -> None:
    origins = [
        "https://WWW.Example.com",
        "https://shop.example.com:8443",
        "http://localhost:3000",
        "https://a.test:443",
    ]

    status, patched = api.call("PATCH", SETTINGS, {"allowedOrigins": origins}, key=tenant["secretKey"])
    _, read_back = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 200, patched
    expected = ["https://www.example.com", "https://shop.example.com:8443", "http://localhost:3000", "https://a.test"]
    assert patched["allowedOrigins"] == read_back["allowedOrigins"] == expected


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.example.com/",
        "https://www.example.com/book",
        "https://*.example.com",
        "*",
        "http://www.example.com",
        "ftp://www.example.com",
        "https://user@www.example.com",
        "https://www.example.com?x=1",
        "www.example.com",
        "https://www.example.com:99999",
        "null",
    ],
)
def test_an_origin_with_a_path_wildcard_or_plain_http_is_a_400_naming_the_item(
    api: Api, tenant: dict[str, Any], origin: str
) -> None:
    status, body = api.call(
        "PATCH", SETTINGS, {"allowedOrigins": ["https://ok.example", origin]}, key=tenant["secretKey"]
    )
    _, after = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 400, body
    assert "allowedOrigins[1]" in body["error"]["details"]["fields"], body
    assert after["allowedOrigins"] == []


def test_more_than_twenty_origins_or_a_repeated_one_is_a_400(api: Api, tenant: dict[str, Any]) -> None:
    many = [f"https://site{i}.example" for i in range(21)]

    too_many, body = api.call("PATCH", SETTINGS, {"allowedOrigins": many}, key=tenant["secretKey"])
    repeated, again = api.call(
        "PATCH", SETTINGS, {"allowedOrigins": ["https://a.example", "https://A.example:443"]}, key=tenant["secretKey"]
    )

    assert too_many == 400 and "allowedOrigins" in body["error"]["details"]["fields"]
    assert repeated == 400 and "allowedOrigins" in again["error"]["details"]["fields"]


def test_an_empty_list_removes_every_origin(api: Api, tenant: dict[str, Any]) -> None:
    api.call("PATCH", SETTINGS, {"allowedOrigins": ["https://a.example"]}, key=tenant["secretKey"])

    status, body = api.call("PATCH", SETTINGS, {"allowedOrigins": []}, key=tenant["secretKey"])

    assert status == 200 and body["allowedOrigins"] == []


def test_a_request_origin_matches_only_an_allowed_one_exactly() -> None:
    allowed = (normalise_origin("https://www.example.com"), normalise_origin("http://localhost:3000"))

    assert allowed_origin("https://www.example.com", allowed) == "https://www.example.com"
    assert allowed_origin("https://WWW.example.com:443", allowed) == "https://www.example.com"
    assert allowed_origin("http://localhost:3000", allowed) == "http://localhost:3000"
    for refused in (
        "https://example.com",
        "https://www.example.com.evil.test",
        "http://www.example.com",
        "null",
        "",
        None,
    ):
        assert allowed_origin(refused, allowed) is None, refused
    with pytest.raises(OriginError):
        normalise_origin("https://*.example.com")
