"""Every answer a test receives is checked against the OpenAPI document the app serves.

The status must be one the operation declares and the body must match the schema declared
for that status (response schemas forbid undeclared fields), so drift between what the API
sends and what it promises fails whichever test happens to see it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tests.conftest import PROJECT_DIR

METHODS = {"get", "put", "post", "delete", "patch"}
UNROUTED = {404, 405}
PAGES = (
    "/book/",
    "/embed/",
    "/manage/",
    "/static/",
    "/theme/",
    "/payments/",
    "/waitlist/",
    "/oauth/",
)  # HTML pages, not the JSON contract  # an unknown path or method still answers in the error shape


@functools.cache
def served_document() -> dict[str, Any]:
    """The document as `/v1/openapi.json` serves it (generated once per test process)."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        response = client.http.get("/v1/openapi.json")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _operation(document: Mapping[str, Any], method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(template, operation) for a concrete path; (template, None) when the path exists but not the method."""
    bare = path.split("?", 1)[0]
    for template, item in document["paths"].items():
        if re.fullmatch(re.sub(r"{\w+}", "[^/]+", template), bare):
            return template, item.get(method.lower())
    return None, None


def _schema_problems(document: Mapping[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    validator = Draft202012Validator({**schema, "components": document["components"]}, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}" for e in validator.iter_errors(body)]


def contract_problems(
    document: Mapping[str, Any], method: str, path: str, status: int, raw: bytes, media: str = "application/json"
) -> list[str]:
    """Why this answer breaks the contract (empty when it keeps it). `media` is the answer's Content-Type."""
    template, operation = _operation(document, method, path)
    if operation is None:
        if status not in UNROUTED:
            return [f"{method} {path} is not in the document, yet answered {status}"]
        error_schema = {"$ref": "#/components/schemas/Error"}
        return _schema_problems(document, error_schema, json.loads(raw or b"null"))
    declared = operation["responses"].get(str(status))
    if declared is None:
        return [f"{method} {template} answered {status}, which it does not declare ({sorted(operation['responses'])})"]
    media = media.split(";")[0].strip() or "application/json"
    if media != "application/json" and raw:
        if media not in declared.get("content", {}):
            return [f"{method} {template} {status} sent {media}, which it does not declare"]
        return []  # a page (text/html) or a download (text/csv, application/pdf), not a JSON body
    if declared.get("content") and "application/json" not in declared["content"]:
        return [] if not raw else [f"{method} {template} {status} sent JSON where it declares a page"]
    content = declared.get("content", {}).get("application/json")
    if content is None:
        return [] if not raw else [f"{method} {template} {status} declares no body but sent {raw[:200]!r}"]
    try:
        body = json.loads(raw)
    except ValueError:
        return [f"{method} {template} {status} sent a body that is not JSON: {raw[:200]!r}"]
    return [f"{method} {template} {status} {p}" for p in _schema_problems(document, content["schema"], body)]


def checked_request(original: Any) -> Any:
    """Wraps Chalice's TestHTTPClient.request so every answer is checked before a test sees it."""

    @functools.wraps(original)
    def request(self: Any, method: str, path: str, headers: Any = None, body: bytes = b"") -> Any:
        response = original(self, method, path, headers=headers, body=body)
        if not path.startswith(("/v1/openapi.json", *PAGES)):
            media = response.headers.get("Content-Type", "application/json")
            problems = contract_problems(served_document(), method, path, response.status_code, response.body, media)
            assert problems == [], "the answer breaks the published contract:\n" + "\n".join(problems)
        return response

    return request
