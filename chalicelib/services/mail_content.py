"""What each notification says: subject, plain text and HTML from jinja2 templates.

Autoescaping protects the HTML from names and reasons clients typed; StrictUndefined turns
a missing variable into an error in tests instead of a blank in someone's inbox.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DEFAULT_PRIMARY = "#1f2937"
DEFAULT_ACCENT = "#2563eb"


class MailKind(enum.Enum):
    CONFIRMATION = "confirmation"
    RESCHEDULE = "reschedule"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"


_SUBJECTS = {
    MailKind.CONFIRMATION: "Confirmed: {service} on {when}",
    MailKind.RESCHEDULE: "Moved: {service} is now on {when}",
    MailKind.CANCELLATION: "Cancelled: {service} on {when}",
    MailKind.REMINDER: "Reminder: {service} on {when}",
}
_HEADINGS = {
    MailKind.CONFIRMATION: "Your appointment is booked",
    MailKind.RESCHEDULE: "Your appointment has a new time",
    MailKind.CANCELLATION: "Your appointment is cancelled",
    MailKind.REMINDER: "See you soon",
}


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_mail(
    kind: MailKind,
    *,
    tenant_name: str,
    branding: dict[str, Any],
    recipient_name: str,
    service_name: str,
    provider_name: str,
    when: str,
    manage_url: str | None,
    reason: str | None = None,
) -> MailContent:
    context = {
        "tenant_name": tenant_name,
        "brand": {
            "primary": branding.get("primaryColor") or DEFAULT_PRIMARY,
            "accent": branding.get("accentColor") or DEFAULT_ACCENT,
        },
        "recipient_name": recipient_name,
        "service_name": service_name,
        "provider_name": provider_name,
        "when": when,
        "manage_url": manage_url,
        "reason": reason,
        "heading": _HEADINGS[kind],
    }
    subject = _SUBJECTS[kind].format(service=service_name, when=when)
    env = _environment()
    context["subject"] = subject
    text = env.get_template(f"email/{kind.value}.txt").render(context)
    html = env.get_template(f"email/{kind.value}.html").render(context)
    return MailContent(subject=subject, text=text, html=html)
