"""A provider's Google Calendar connection as the API reads and writes it."""

from __future__ import annotations

from pydantic import Field

from chalicelib.api.model_types import Body, Instant
from chalicelib.domain.calendar_sync import ConnectionStatus


class ConnectBody(Body):
    code: str = Field(min_length=1, max_length=2048, description="the authorization code Google returned")
    state: str = Field(min_length=1, max_length=2048, description="the `state` Google returned, unchanged")


class CalendarStatus(Body):
    status: ConnectionStatus = Field(description="broken: Google no longer accepts the grant; connect again")
    calendar_id: str | None = Field(description="the connected calendar (the Google account for `primary`)")
    last_sync_at: Instant | None = Field(description="when busy times were last read from Google")
    watch_expires_at: Instant | None = Field(description="when the push channel expires (renewed a day before)")
