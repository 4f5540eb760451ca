"""`GET /_local/mail`: the mail the local stack sent (registered only when LOCAL_MODE=1)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.model_types import Body
from chalicelib.api.routing import api_route
from chalicelib.gateways.mail import outbox_dir

bp = Blueprint(__name__)


class Mail(Body):
    file: str
    to: str
    from_: str = Field(alias="from")
    subject: str
    attachments: list[str | None]


class MailPage(Body):
    items: list[Mail]
    next_cursor: None = None


@api_route(bp, "/_local/mail", "GET", auth="none", response="local_mail.MailPage")
def list_local_mail() -> MailPage:
    """The mail the local stack sent (local mode only)"""
    folder = outbox_dir()
    items = []
    if folder is not None and folder.exists():
        for path in sorted(folder.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=default)
            items.append(
                {
                    "file": path.name,
                    "to": str(message["To"]),
                    "from": str(message["From"]),
                    "subject": str(message["Subject"]),
                    "attachments": [part.get_filename() for part in message.iter_attachments()],
                }
            )
    return MailPage.model_validate({"items": items})
