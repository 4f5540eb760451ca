"""Raw MIME messages: text and HTML alternatives plus an optional calendar attachment.

SES v2 drops attachments of "Simple" messages, so mail with an .ics goes out as Raw MIME.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid

from chalicelib.services.mail_content import MailContent


def _one_line(value: str) -> str:
    """Names and subjects come from what people typed: a line break in a header would be an
    injected header (and the email package refuses any of str.splitlines' breaks, which would
    fail the stream record on every retry)."""
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


@dataclass(frozen=True)
class Attachment:
    filename: str
    maintype: str
    subtype: str
    data: bytes


def build_message(
    *,
    sender_name: str,
    sender: str,
    recipient_name: str,
    recipient: str,
    reply_to: str | None,
    content: MailContent,
    ics: str | None,
    ics_method: str = "REQUEST",
    message_id_domain: str = "scheduling.invalid",
    attachments: tuple[Attachment, ...] = (),
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((_one_line(sender_name), sender))
    message["To"] = formataddr((_one_line(recipient_name), recipient))
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = _one_line(content.subject)
    message["Message-ID"] = make_msgid(domain=message_id_domain)
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if ics is not None:
        message.add_attachment(
            ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="invite.ics" if ics_method == "REQUEST" else "cancel.ics",
            params={"method": ics_method, "charset": "utf-8"},
        )
    for attachment in attachments:
        message.add_attachment(
            attachment.data, maintype=attachment.maintype, subtype=attachment.subtype, filename=attachment.filename
        )
    return message.as_bytes()
