"""What every page view shares: reading forms and queries, finding the tenant, failing as a page."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalice import Blueprint, Response

from chalicelib.actor import act_as
from chalicelib.api.lazy import registry
from chalicelib.domain.errors import DomainError, NotFoundError, TokenGoneError
from chalicelib.domain.tenant import Tenant
from chalicelib.observability import logger
from chalicelib.pages.render import page

FORM = ["application/x-www-form-urlencoded"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
View = Callable[..., Response]


def html_view(view: View) -> View:
    """A domain error or a bug becomes a page (404, 410 or 500), never a trace or a JSON body."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Response:
        act_as("client")
        try:
            return view(**kwargs)
        except NotFoundError:
            return message_page(404, "Not found", "There is no such page. Check the link you followed.")
        except TokenGoneError:
            return gone_page()
        except DomainError as error:
            return message_page(400, "That did not work", error.message)
        except Exception:
            logger.exception("page failed")
            return message_page(500, "Something went wrong", "Something went wrong on our side. Please retry later.")

    return wrapped


def message_page(status: int, title: str, text: str, **extra: Any) -> Response:
    return page("message.html", status, title=title, text=text, tenant=None, next_link=extra.get("next_link"))


def gone_page() -> Response:
    return page(
        "message.html",
        410,
        title="This link no longer works",
        text="The link was used already, replaced by a newer one, or the appointment has started. "
        "Open the newest mail we sent about this appointment: its link works. "
        "If you cannot find it, contact the business directly.",
        tenant=None,
        next_link=None,
    )


def route(bp: Blueprint, path: str, methods: list[str]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        options: dict[str, Any] = {"methods": methods}
        if "POST" in methods:
            options["content_types"] = FORM
        bp.route(path, **options)(html_view(view))
        return view

    return decorator


def form(raw: str | bytes | None) -> dict[str, str]:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    parsed = parse_qs(text, keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def tenant_by_slug(slug: str) -> Tenant:
    if not SLUG.match(slug):
        raise NotFoundError("No such business.")
    tenants = registry.tenant_repository()
    return tenants.get(tenants.tenant_id_for_slug(slug))


def zone_or(value: str | None, fallback: str) -> str:
    if not value or len(value) > 64:
        return fallback
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
    return value


def day_or(value: str | None, zone: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return registry.clock().astimezone(ZoneInfo(zone)).date()


def instant(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
