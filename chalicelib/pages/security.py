"""Page security: response headers (CSP, framing, referrer), signed CSRF tokens, cookies.

CSRF is a signed double submit: the form carries HMAC(key, purpose + cookie value), so a
forged post needs the cookie's value, which another site cannot read. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from chalicelib.services.page_links import signing_key

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "form-action 'self' {checkout}; base-uri 'none'; frame-ancestors {ancestors}"
)
BOOKING_COOKIE = "bk"
MANAGE_COOKIE_AGE = 30 * 60  # the manage cookie is short-lived; the mail's link can be opened again


def csrf_token(purpose: str, cookie_value: str) -> str:
    return hmac.new(signing_key(), f"{purpose}|{cookie_value}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(purpose: str, cookie_value: str | None, presented: str | None) -> bool:
    if not cookie_value or not presented:
        return False
    return hmac.compare_digest(csrf_token(purpose, cookie_value), presented)


def checkout_origins() -> str:
    """Where a booking form may be redirected to pay (CSP form-action also governs redirects)."""
    from urllib.parse import urlsplit

    from chalicelib import config

    origins = ["https://checkout.stripe.com"]
    local = config.stripe_api_base()
    if local:
        parts = urlsplit(local)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(origins)


def page_headers(ancestors: str = "'none'", checkout: str | None = None) -> dict[str, str]:
    checkout = checkout_origins() if checkout is None else checkout
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CSP.format(ancestors=ancestors, checkout=checkout).replace("  ", " "),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    return headers


def cookie(name: str, value: str, path: str, max_age: int, same_site: str = "Lax") -> str:
    """A Set-Cookie value: HttpOnly and Secure always."""
    return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite={same_site}"


def read_cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def new_nonce() -> str:
    return secrets.token_urlsafe(24)
