"""A shop with a waitlist: joining and confirming through the mailed link, the offer links in
the mails, the stream pumped until it is quiet and the waitlist's schedules fired by hand."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlparse

from chalicelib.api.events import run_scheduled_task
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import ZONE, Shop

MONDAY_MORNING = [{"dayOfWeek": 0, "start": "09:00", "end": "12:00"}]


def drain(stream: StreamPump) -> None:
    """Deliver stream records until none are left (effects write records of their own)."""
    for _ in range(20):
        if not stream.run_once():
            return
    raise AssertionError("the stream never went quiet")


def link_in(mail: Any, marker: str) -> str:
    message = message_from_bytes(mail.raw, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return next(word for word in str(body.get_content()).split() if marker in word)


@dataclass(frozen=True)
class Link:
    resource_id: str
    token: str
    tenant: str


def parse_link(url: str) -> Link:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    parts = parsed.path.strip("/").split("/")
    resource = parts[2] if parts[1] == "offers" else parts[1]
    return Link(resource, query["token"][0], query["t"][0])


def mails(gateway: InMemoryMailGateway, kind: str, to: str | None = None) -> list[Any]:
    return [m for m in gateway.sent if m.tags.get("kind") == kind and (to is None or m.recipient == to)]


def offer_link(gateway: InMemoryMailGateway, to: str) -> Link:
    found = mails(gateway, "waitlist-offer", to)
    assert found, [(m.tags, m.recipient) for m in gateway.sent]
    return parse_link(link_in(found[-1], "/waitlist/offers/"))


@dataclass
class Waitlist:
    shop: Shop
    stream: StreamPump
    mail: InMemoryMailGateway

    def join(
        self,
        service: dict[str, Any],
        name: str,
        windows: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> tuple[int, Any]:
        body = {
            "serviceId": service["id"],
            "windows": windows or MONDAY_MORNING,
            "client": {"name": name, "email": f"{name.lower()}@example.test", "timezone": ZONE},
            **fields,
        }
        return self.shop.api.call("POST", "/v1/public/waitlist", body, public_key=self.shop.public_key)

    def confirm_link(self, email: str) -> Link:
        drain(self.stream)
        found = mails(self.mail, "waitlist-confirm", email)
        assert found, [(m.tags, m.recipient) for m in self.mail.sent]
        return parse_link(link_in(found[-1], "/confirm?"))

    def confirm(self, link: Link) -> tuple[int, Any]:
        return self.shop.api.call(
            "POST",
            f"/v1/public/waitlist/{link.resource_id}/confirm",
            {"token": link.token},
            public_key=self.shop.public_key,
        )

    def joined(self, service: dict[str, Any], name: str, **fields: Any) -> dict[str, Any]:
        """Join and confirm; the active entry."""
        status, body = self.join(service, name, **fields)
        assert status == 201, body
        status, confirmed = self.confirm(self.confirm_link(f"{name.lower()}@example.test"))
        assert status == 200, confirmed
        return dict(confirmed["entry"])

    def answer(self, link: Link, action: str, **extra: Any) -> tuple[int, Any]:
        return self.shop.api.call(
            "POST",
            f"/v1/public/waitlist/offers/{link.resource_id}/{action}",
            {"token": link.token, **extra},
            public_key=self.shop.public_key,
        )

    def expire(self, link: Link) -> dict[str, str]:
        """What the offer's one-time schedule runs when it fires."""
        return run_scheduled_task(
            {"task": "waitlist_offer_expiry", "tenantId": link.tenant, "offerId": link.resource_id}
        )

    def send_queued(self) -> dict[str, str]:
        return run_scheduled_task({"task": "waitlist_send_queued", "tenantId": self.shop.tenant["tenant"]["id"]})

    def admin(self, method: str, path: str = "", body: Any = None) -> tuple[int, Any]:
        return self.shop.api.call(method, f"/v1/admin/waitlist{path}", body, key=self.shop.key)

    def release(self, provider: dict[str, Any], service: dict[str, Any], start: str) -> tuple[int, Any]:
        body = {"providerId": provider["id"], "serviceId": service["id"], "start": start}
        return self.shop.api.call("POST", "/v1/admin/slots/release", body, key=self.shop.key)
