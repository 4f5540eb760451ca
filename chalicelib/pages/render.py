"""Rendering pages with jinja2 (autoescape, StrictUndefined), loaded on the first page only:
the JSON API's cold start never imports jinja2."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalice import Response

from chalicelib.domain.money import format_money
from chalicelib.pages.security import page_headers

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "pages"


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
    )
    env.filters.update(when=when, clock=clock, money=format_money)
    return env


def when(instant: datetime, zone: str) -> str:
    """`Tuesday 16 March 2027, 10:00 (Europe/Berlin)`: date, time and zone, always together."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} ({zone})"


def clock(instant: datetime, zone: str) -> str:
    return f"{instant.astimezone(ZoneInfo(zone)):%H:%M}"


def page(
    template: str,
    status: int = 200,
    *,
    ancestors: str = "'none'",
    cookies: list[str] | None = None,
    **context: Any,
) -> Response:
    body = _environment().get_template(template).render(**context)
    headers: dict[str, Any] = page_headers(ancestors)
    if cookies:
        headers["Set-Cookie"] = cookies if len(cookies) > 1 else cookies[0]
    return Response(body=body, status_code=status, headers=headers)


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {**page_headers(), "Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies if len(cookies) > 1 else cookies[0]
    return Response(body="", status_code=303, headers=headers)
