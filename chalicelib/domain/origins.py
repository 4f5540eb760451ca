"""Web origins a tenant allows to embed its booking page and to call the public API from a browser.

An origin is `scheme://host[:port]` exactly as a browser sends it in `Origin` (RFC 6454): no
path, no query, no user, no wildcard. HTTPS only, except loopback hosts over HTTP, which
browsers treat as secure contexts (a tenant testing its site on `http://localhost:3000`).
"""

from __future__ import annotations

import re

MAX_ALLOWED_ORIGINS = 20
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
DEFAULT_PORTS = {"https": 443, "http": 80}
_ORIGIN = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>\[::1\]|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


class OriginError(ValueError):
    """Why a string is not an origin a tenant may allow (raised while parsing settings only)."""


def normalise_origin(value: str) -> str:
    """The origin as browsers serialise it (lower case, default port dropped), or OriginError."""
    text = value.strip().lower()
    if "*" in text:
        raise OriginError("wildcards are not allowed: list each origin")
    match = _ORIGIN.fullmatch(text)
    if match is None:
        raise OriginError("must be scheme://host[:port] with no path, e.g. https://www.example.com")
    scheme, host, port = match["scheme"], match["host"], match["port"]
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise OriginError("must use https (http only for localhost)")
    if port is not None and not 0 < int(port) < 65536:
        raise OriginError("the port must be 1-65535")
    if port is not None and int(port) == DEFAULT_PORTS[scheme]:
        port = None
    return f"{scheme}://{host}" + (f":{int(port)}" if port else "")


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """`origin` (a request's `Origin` header) when the tenant allows it, else None.

    Compared with the stored, normalised list exactly; an `Origin` of `null` (sandboxed frames,
    files) never matches."""
    if not origin or origin == "null" or len(origin) > 300:
        return None
    try:
        normalised = normalise_origin(origin)
    except OriginError:
        return None
    return normalised if normalised in allowed else None
