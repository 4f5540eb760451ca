"""The waitlist as the API reads and writes it: entries, offers and an admin's release of a time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from chalicelib.api.appointment_models import Client, ClientBody
from chalicelib.api.model_types import (
    Body,
    Day,
    Id,
    Instant,
    Note,
    Page,
    Paged,
    Query,
    WallEnd,
    WallStart,
    problems,
)
from chalicelib.domain.appointments import ClientInfo
from chalicelib.domain.waitlist import MAX_WINDOWS, EntryStatus, OfferStatus, WaitWindow
from chalicelib.domain.windows import wall_minutes
from chalicelib.services.waitlist import JoinRequest

OfferToken = Annotated[str, Field(min_length=1, max_length=100, description="the token of the link in the mail")]


class Window(Body):
    """On one `date`, or every `dayOfWeek` (0 = Monday), from `start` to `end` in the client's zone."""

    model_config = Body.model_config | {
        "json_schema_extra": {"examples": [{"dayOfWeek": 0, "start": "09:00", "end": "12:00"}]}
    }

    date: Day | None = Field(None, description="one date (or give dayOfWeek)")
    day_of_week: int | None = Field(None, ge=0, le=6, description="every such weekday, 0 = Monday")
    start: WallStart
    end: WallEnd

    @model_validator(mode="after")
    def _one_day_and_a_span(self) -> Self:
        found: dict[tuple[str | int, ...], str] = {}
        if (self.date is None) == (self.day_of_week is None):
            found[("date",)] = "give exactly one of date and dayOfWeek"
        if wall_minutes(self.end) <= wall_minutes(self.start):
            found[("end",)] = "must be after start"
        if found:
            raise problems(found)
        return self

    def to_domain(self) -> WaitWindow:
        return WaitWindow(start=self.start, end=self.end, date=self.date, day_of_week=self.day_of_week)


class NewEntry(Body):
    service_id: Id
    provider_id: Id | None = Field(None, description="null: any provider of the service")
    windows: list[Window] = Field(min_length=1, max_length=MAX_WINDOWS)
    client: ClientBody

    def to_domain(self) -> JoinRequest:
        return JoinRequest(
            service_id=self.service_id,
            provider_id=self.provider_id,
            windows=tuple(w.to_domain() for w in self.windows),
            client=ClientInfo(**self.client.model_dump()),
        )


class WindowOut(Body):
    date: date | None
    day_of_week: int | None
    start: str
    end: str


class Entry(Body):
    id: Id
    service_id: Id
    provider_id: Id | None
    windows: list[WindowOut]
    client: Client
    status: EntryStatus = Field(description="pending until the email is confirmed; active entries get offers")
    vip: bool
    joined_at: Instant
    updated_at: Instant
    confirmed_at: Instant | None
    removed_reason: str | None


class EntryBox(Body):
    entry: Entry


class ConfirmEntry(Body):
    token: OfferToken


class EntryQuery(Page):
    status: EntryStatus | None = None
    service_id: Id | None = None


EntryPage = Paged[Entry]


class EntryPatch(Body):
    vip: bool


class EntryRemoval(Body):
    reason: Annotated[Note, Field(min_length=1)]


class ScoreParts(Body):
    vip: float
    service_match: float
    provider_preference: float
    window_fit: float
    time_waited: float


class Offer(Body):
    id: Id
    entry_id: Id
    service_id: Id
    provider_id: Id
    start: Instant
    end: Instant
    status: OfferStatus = Field(description="queued: held, its mail waits for the hourly allowance")
    score: float
    score_parts: ScoreParts = Field(description="why this entry was asked first")
    created_at: Instant
    expires_at: Instant = Field(description="the time is held until then")

    @classmethod
    def of_offer(cls, offer: Any) -> Offer:
        return cls.of(offer, score_parts=ScoreParts.model_validate(offer.score_parts, by_alias=True))


class OfferBox(Body):
    offer: Offer


class OfferTokenQuery(Query):
    token: OfferToken


class AnswerOffer(Body):
    token: OfferToken


class AcceptOffer(AnswerOffer):
    intake: dict[str, Any] = Field(default_factory=dict, description="the service's intake answers, if it asks")


class Release(Body):
    provider_id: Id
    service_id: Id
    start: Instant


class Released(Body):
    outcome: str = Field(description="offered, queued, returned (nobody waiting), inside_notice, ...")
