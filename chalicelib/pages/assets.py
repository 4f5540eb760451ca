"""Static files of the pages (CSS, JS, vendored: no CDN), the tenant's colour sheet, and
the Stripe Connect onboarding return page."""

from __future__ import annotations

import re
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.pages.common import message_page, route, tenant_by_slug

bp = Blueprint(__name__)
STATIC = Path(__file__).resolve().parents[1] / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
NAME = re.compile(r"^[a-z0-9-]+\.(css|js)$")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND = "#1f4e8c"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def brand_css(colour: str | None) -> str:
    """The tenant's colour for buttons and headings; text on it is white or black, whichever
    reaches AA (4.5:1); a colour too light for text on white is not used for text."""
    brand = colour if colour and HEX.match(colour) else DEFAULT_BRAND
    on_brand = "#ffffff" if contrast(brand, "#ffffff") >= 4.5 else "#000000"
    ink = brand if contrast(brand, "#ffffff") >= 4.5 else "#1a1a1a"
    return f":root {{ --brand: {brand}; --on-brand: {on_brand}; --brand-ink: {ink}; }}\n"


@route(bp, "/static/{name}", ["GET"])
def static_file(name: str) -> Response:
    path = STATIC / name
    if not NAME.match(name) or not path.is_file():
        return message_page(404, "Not found", "There is no such file.")
    headers: dict[str, str | list[str]] = {
        "Content-Type": TYPES[path.suffix],
        "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=path.read_text(), status_code=200, headers=headers)


@route(bp, "/theme/{slug}", ["GET"])
def theme(slug: str) -> Response:
    tenant = tenant_by_slug(slug.removesuffix(".css"))
    headers: dict[str, str | list[str]] = {
        "Content-Type": TYPES[".css"],
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=brand_css(tenant.branding.get("primaryColor")), status_code=200, headers=headers)


@route(bp, "/payments/done", ["GET"])
def payments_done() -> Response:
    return message_page(
        200,
        "Thank you: back from Stripe",
        "Your Stripe account details were sent. It can take Stripe a few minutes to check them; "
        "your dashboard shows when online payments are ready. You can close this page.",
    )
