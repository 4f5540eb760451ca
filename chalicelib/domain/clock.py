"""Instants: always timezone-aware, stored and sent as UTC ISO strings that sort."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(instant: datetime) -> str:
    """UTC, seconds precision, `Z` suffix: the API's and the store's instant format."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str) -> datetime:
    """Any ISO-8601 instant with an offset (or Z) -> aware UTC datetime. Raises ValueError otherwise."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("instant needs an offset or Z")
    return parsed.astimezone(UTC)
