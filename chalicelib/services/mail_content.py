"""What each notification says: subject, plain text and HTML from jinja2 templates.

The client's mail speaks to the client (their booking, their manage link, their refund); the
provider's mail is a work note about a client (who, how to reach them, their intake answers)
and never carries the client's manage link. Autoescaping protects the HTML from names and
reasons people typed; StrictUndefined turns a missing variable into an error in tests instead
of a blank in someone's inbox.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DEFAULT_PRIMARY = "#1f2937"
DEFAULT_ACCENT = "#2563eb"
# How long a card refund takes to reach the client, as Stripe states it for card refunds.
# The one place this wording lives: every mail that mentions a refund uses it.
REFUND_ARRIVAL = "Card refunds usually reach the card within 5-10 business days."


class MailKind(enum.Enum):
    CONFIRMATION = "confirmation"
    RESCHEDULE = "reschedule"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"


class Audience(enum.Enum):
    CLIENT = "client"
    PROVIDER = "provider"


_CLIENT_SUBJECTS = {
    MailKind.CONFIRMATION: "Confirmed: {service} on {when}",
    MailKind.RESCHEDULE: "Moved: {service} is now on {when}",
    MailKind.CANCELLATION: "Cancelled: {service} on {when}",
    MailKind.REMINDER: "Reminder: {service} on {when}",
}
_CLIENT_HEADINGS = {
    MailKind.CONFIRMATION: "Your appointment is booked",
    MailKind.RESCHEDULE: "Your appointment has a new time",
    MailKind.CANCELLATION: "Your appointment is cancelled",
    MailKind.REMINDER: "See you soon",
}
_PROVIDER_SUBJECTS = {
    MailKind.CONFIRMATION: "New booking: {client} \N{EM DASH} {service} at {when}",
    MailKind.RESCHEDULE: "Moved: {client} \N{EM DASH} {service} now at {when}",
    MailKind.CANCELLATION: "Cancelled: {client} \N{EM DASH} {service} at {when}",
    MailKind.REMINDER: "Reminder: {client} \N{EM DASH} {service} at {when}",
}
_PROVIDER_HEADINGS = {
    MailKind.CONFIRMATION: "New booking",
    MailKind.RESCHEDULE: "Booking moved",
    MailKind.CANCELLATION: "Booking cancelled",
    MailKind.REMINDER: "Coming up",
}
_PROVIDER_LINES = {
    MailKind.CONFIRMATION: "{client} booked {service} with you.",
    MailKind.RESCHEDULE: "{service} with {client} has moved to a new time.",
    MailKind.CANCELLATION: "{service} with {client} is cancelled.",
    MailKind.REMINDER: "A reminder: {client} is booked for {service} with you.",
}


@dataclass(frozen=True)
class RefundNote:
    """What a cancellation gave back, as a mail states it (amounts already formatted)."""

    paid: str | None  # what was paid; None: nothing was
    refunded: str | None  # None: nothing is given back
    by_policy: bool  # nothing given back because the cancellation policy gives nothing


@dataclass(frozen=True)
class MailFacts:
    """Everything a mail about one appointment may say, already in the recipient's terms."""

    tenant_name: str
    branding: dict[str, Any]
    recipient_name: str
    service_name: str
    provider_name: str
    when: str  # the start in the recipient's zone
    client_name: str
    client_email: str
    client_phone: str | None = None
    intake: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, answer)
    manage_url: str | None = None
    reason: str | None = None
    refund: RefundNote | None = None
    previous_when: str | None = None  # a reschedule's former start


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str


def refund_sentences(refund: RefundNote, audience: Audience) -> list[str]:
    """The refund in words: how much and when it arrives, or why there is none."""
    if refund.paid is None:
        return ["No payment was taken, so there is nothing to refund."]
    if refund.refunded is None:
        rule = " under the cancellation policy" if refund.by_policy else ""
        return [f"No refund is due{rule} (paid: {refund.paid})."]
    whom = "You get" if audience is Audience.CLIENT else "The client gets"
    return [f"{whom} {refund.refunded} back of the {refund.paid} paid.", REFUND_ARRIVAL]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_mail(kind: MailKind, audience: Audience, facts: MailFacts) -> MailContent:
    names = {"service": facts.service_name, "when": facts.when, "client": facts.client_name}
    if audience is Audience.CLIENT:
        subject = _CLIENT_SUBJECTS[kind].format(**names)
        heading = _CLIENT_HEADINGS[kind]
        template = f"email/{kind.value}"
        lead = ""
    else:
        subject = _PROVIDER_SUBJECTS[kind].format(**names)
        heading = _PROVIDER_HEADINGS[kind]
        template = "email/provider"
        lead = _PROVIDER_LINES[kind].format(**names)
    context = {
        "subject": subject,
        "heading": heading,
        "lead": lead,
        "tenant_name": facts.tenant_name,
        "brand": {
            "primary": facts.branding.get("primaryColor") or DEFAULT_PRIMARY,
            "accent": facts.branding.get("accentColor") or DEFAULT_ACCENT,
        },
        "recipient_name": facts.recipient_name,
        "service_name": facts.service_name,
        "provider_name": facts.provider_name,
        "when": facts.when,
        "previous_when": facts.previous_when,
        "client_name": facts.client_name,
        "client_email": facts.client_email,
        "client_phone": facts.client_phone,
        "intake": facts.intake,
        # The provider's mail never carries the client's link, whatever the caller passed.
        "manage_url": facts.manage_url if audience is Audience.CLIENT else None,
        "manage_label": "See your booking" if kind is MailKind.CANCELLATION else "Reschedule or cancel",
        "reason": facts.reason,
        "refund_lines": refund_sentences(facts.refund, audience) if facts.refund is not None else [],
    }
    env = _environment()
    text = env.get_template(f"{template}.txt").render(context)
    html = env.get_template(f"{template}.html").render(context)
    return MailContent(subject=subject, text=text, html=html)


@dataclass(frozen=True)
class DocumentMail:
    """A mail about money (an invoice sent, a receipt): a heading, one sentence, a few facts."""

    subject: str
    heading: str
    lead: str
    rows: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()


def render_document_mail(mail: DocumentMail, tenant_name: str, branding: dict[str, Any], recipient: str) -> MailContent:
    context = {
        "subject": mail.subject,
        "heading": mail.heading,
        "lead": mail.lead,
        "rows": mail.rows,
        "notes": mail.notes,
        "tenant_name": tenant_name,
        "recipient_name": recipient,
        "brand": {"primary": branding.get("primaryColor") or DEFAULT_PRIMARY},
    }
    env = _environment()
    text = env.get_template("email/document.txt").render(context)
    html = env.get_template("email/document.html").render(context)
    return MailContent(subject=mail.subject, text=text, html=html)
