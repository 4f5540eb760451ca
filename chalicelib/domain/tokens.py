"""Single-use action tokens for a client's self-service links.

A token is 32 random bytes; only its SHA-256 is stored, with the appointment, the actions
it allows, its expiry and the appointment version it was minted for (API.md, Public):
- it keeps working while the client has not used it: paying, reminders and other system
  events bump the appointment's version but not its `links_from_version`, so they end no link;
- a reschedule or a cancellation, by the client or the business, moves `links_from_version`
  to the new version: every token minted before it is gone, and the new token (the
  reschedule's answer, the mail of the change) is minted for it;
- using a token to reschedule or cancel also spends it;
- every token ends at the appointment's start.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.appointments import Action, Appointment
from chalicelib.domain.credentials import hash_secret
from chalicelib.domain.errors import TokenGoneError

TOKEN_BYTES = 32
SELF_SERVICE_ACTIONS = frozenset({Action.VIEW, Action.CANCEL, Action.RESCHEDULE})
VIEW_ONLY = frozenset({Action.VIEW})


@dataclass(frozen=True)
class ActionToken:
    """The stored form: never the token itself."""

    hash: str
    appointment_id: str
    actions: frozenset[Action]
    expires_at: datetime
    version: int
    used: bool = False


@dataclass(frozen=True)
class MintedToken:
    plaintext: str
    record: ActionToken


def mint_token(appointment: Appointment, actions: frozenset[Action] = SELF_SERVICE_ACTIONS) -> MintedToken:
    """A token for the appointment's current version, valid until the appointment starts."""
    plaintext = secrets.token_urlsafe(TOKEN_BYTES)
    record = ActionToken(
        hash=hash_secret(plaintext),
        appointment_id=appointment.id,
        actions=actions,
        expires_at=appointment.start,
        version=appointment.version,
    )
    return MintedToken(plaintext, record)


def check_token(token: ActionToken | None, appointment: Appointment, action: Action, now: datetime) -> None:
    """Raise TokenGoneError (410) unless `token` may perform `action` on `appointment` now."""
    if token is None or token.appointment_id != appointment.id:
        raise TokenGoneError("This link is not valid for this appointment.")
    if token.used:
        raise TokenGoneError("This link has already been used.")
    if token.version < appointment.links_from_version:
        raise TokenGoneError("This link was replaced by a newer one.")
    if token.expires_at <= now or appointment.start <= now:
        raise TokenGoneError("This link has expired.")
    if action not in token.actions:
        raise TokenGoneError("This link does not allow that action.")
