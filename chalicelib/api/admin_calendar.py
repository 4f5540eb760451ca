"""Google Calendar per provider: connect (OAuth with PKCE), status, disconnect, watch notifications,
the OAuth callback page and the 15-minute poll."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate, Response

from chalicelib.actor import SYSTEM, act_as
from chalicelib.api.lazy import calendar_models, payment_models, registry
from chalicelib.api.routing import api_route
from chalicelib.domain.errors import DomainError
from chalicelib.pages.common import message_page, route

if TYPE_CHECKING:
    from chalicelib.services.auth import Caller

bp = Blueprint(__name__)
CALENDAR = "/v1/admin/providers/{provider_id}/calendar"
GOOGLE = "google-calendar"


@api_route(bp, CALENDAR + "/google/authorize", "GET", auth="admin", errors=(503,))
def authorize_google(caller: Caller, provider_id: str) -> payment_models.Url:
    """Google's consent page for the provider's calendar (returns to /oauth/google/callback)"""
    return payment_models.Url(url=registry.calendar_sync().authorize_url(caller.tenant_id, provider_id))


@api_route(bp, CALENDAR + "/google/connect", "POST", auth="admin", errors=(410, 422, 503))
def connect_google(
    caller: Caller, provider_id: str, body: calendar_models.ConnectBody
) -> calendar_models.CalendarStatus:
    """Finish the connection with Google's `code` and `state` (what the callback page does)"""
    status = registry.calendar_sync().connect(caller.tenant_id, provider_id, body.code, body.state)
    return calendar_models.CalendarStatus.of(status)


@api_route(bp, CALENDAR, "GET", auth="admin")
def calendar_status(caller: Caller, provider_id: str) -> calendar_models.CalendarStatus:
    """The provider's calendar connection"""
    return calendar_models.CalendarStatus.of(registry.calendar_sync().status(caller.tenant_id, provider_id))


@api_route(bp, CALENDAR + "/google", "DELETE", auth="admin", status=204, errors=(503,))
def disconnect_google(caller: Caller, provider_id: str) -> None:
    """Revoke and forget the grant (its busy times stop blocking availability)"""
    registry.calendar_sync().disconnect(caller.tenant_id, provider_id)


@api_route(
    bp,
    "/v1/webhooks/google-calendar",
    "POST",
    auth="none",
    errors=(401, 503),
    content_types=("application/x-www-form-urlencoded", "text/plain", "application/octet-stream"),
)
def google_calendar_webhook() -> payment_models.WebhookReceipt:
    """Watch-channel notifications, verified by channel token and resource id; each triggers a sync"""
    act_as(GOOGLE)
    headers = {name.lower(): value for name, value in bp.current_request.headers.items()}
    outcome = registry.calendar_sync().notification(headers)
    return payment_models.WebhookReceipt(received=True, outcome=outcome["outcome"])


@route(bp, "/oauth/google/callback", ["GET"])
def google_callback() -> Response:
    """Where Google sends the browser after consent: the signed state names tenant and provider."""
    params = dict(bp.current_request.query_params or {})
    if params.get("error") or not params.get("code") or not params.get("state"):
        return message_page(400, "Calendar not connected", "Google did not grant access to the calendar.")
    try:
        registry.calendar_sync().complete_callback(str(params["code"]), str(params["state"]))
    except DomainError as error:
        return message_page(400, "Calendar not connected", error.message)
    return message_page(200, "Calendar connected", "The Google Calendar is connected. You can close this page.")


@bp.schedule(Rate(15, unit=Rate.MINUTES), name="poll_calendars")
def poll_calendars(event: Any) -> dict[str, int]:
    """The fallback when push notifications are lost: every calendar not synced recently."""
    act_as(SYSTEM)
    return registry.calendar_sync().poll()
