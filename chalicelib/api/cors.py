"""CORS for the public JSON API (`/v1/public/*`): a tenant's own front end, on one of its
`allowedOrigins`, may call it from a browser with the publishable key. Admin and platform
routes never answer CORS: a secret key has no business in a browser.

The tenant is known only from `X-Tenant-Key`, and a preflight never carries it (browsers send
no author headers on `OPTIONS`), so the preflight answers for any well-formed origin and
grants nothing by itself: the actual request is checked against the key's tenant BEFORE its
view runs, and a browser call (`Origin` present) from a site the tenant did not list is a 403
with no `Access-Control-Allow-Origin`, so it neither acts nor can be read. A request without
`Origin` (a server, curl) or from our own origin is not a cross-origin call and passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from chalicelib import config
from chalicelib.domain.errors import PermissionDeniedError
from chalicelib.domain.origins import OriginError, allowed_origin, normalise_origin
from chalicelib.domain.tenant import Tenant

PUBLIC_PREFIX = "/v1/public/"
ALLOWED_HEADERS = "Content-Type, X-Tenant-Key, X-Manage-Token"
EXPOSED_HEADERS = "Retry-After"
MAX_AGE_SECONDS = 600
RESPONSE_HEADERS = {
    "Access-Control-Allow-Origin": "the request's Origin when it is one of the tenant's allowedOrigins (else absent)",
    "Vary": "Origin",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "the request's Origin (each actual request is checked against the tenant's list)",
    "Access-Control-Allow-Methods": "the methods of this path",
    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
    "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
}


def applies_to(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIX)


def _own_origin() -> str:
    parts = urlsplit(config.public_base_url())
    return f"{parts.scheme}://{parts.netloc}"


def allowed_caller_origin(tenant: Tenant, headers: Mapping[str, str]) -> str | None:
    """The origin to echo for this tenant's request (None: not a cross-origin call); a browser
    call from an origin the tenant did not allow is refused here, before anything happens."""
    origin = headers.get("origin")
    if origin is None or origin == _own_origin():
        return None
    allowed = allowed_origin(origin, tenant.allowed_origins)
    if allowed is None:
        raise PermissionDeniedError(
            "This site may not call the API for this business: the business must add its origin to allowedOrigins."
        )
    return origin


def response_headers(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin is not None:
        headers |= {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    return headers


def preflight_headers(headers: Mapping[str, str], methods: list[str]) -> dict[str, str]:
    """The answer to `OPTIONS` for a path with `methods`; without CORS headers (so the browser
    stops) when the origin is malformed or the requested method is not served here."""
    vary = {"Vary": PREFLIGHT_HEADERS["Vary"]}
    origin = headers.get("origin") or ""
    try:
        normalise_origin(origin)
    except OriginError:
        return vary
    if headers.get("access-control-request-method", "").upper() not in methods:
        return vary
    return vary | {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    }
