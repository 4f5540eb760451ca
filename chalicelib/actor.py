"""Who is acting in the current request or event, for the audit trail.

Set once at the edge (the authenticated key, a client's token, the system, Stripe, Google)
and stamped on every item the store writes, so the stream-driven audit writer knows who
made each change. A context variable, like the log's correlation id: it never decides
what a request may touch (the tenant id is always explicit).
"""

from __future__ import annotations

from contextvars import ContextVar

SYSTEM = "system"
_actor: ContextVar[str] = ContextVar("actor", default=SYSTEM)


def current_actor() -> str:
    return _actor.get()


def act_as(actor: str) -> None:
    """Name the actor for the rest of this request or event (e.g. 'key:key_ab12', 'client', 'system')."""
    _actor.set(actor)
