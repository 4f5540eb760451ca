"""Audit entries: who changed what, when, with a before/after summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Fields that change on every write and say nothing to a reader of the trail.
NOISE = frozenset(
    {
        "pk",
        "sk",
        "type",
        "gsi1pk",
        "gsi1sk",
        "gsi2pk",
        "gsi2sk",
        "ttl",
        "actor",
        "version",
        "links_from_version",
        "updated_at",
        "created_at",
    }
)
# Never copied into the trail, even hashed.
SECRET_FIELDS = frozenset({"key_hash"})
MAX_VALUE_CHARS = 300


@dataclass(frozen=True)
class AuditEntry:
    id: str
    tenant_id: str
    at: str  # UTC ISO
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # The change's position in the table's stream: orders entries of the same second (the
    # stream's times have second precision), so an entity's trail reads in the order it changed.
    sequence: str = ""


def _clip(value: Any) -> Any:
    text = value if isinstance(value, str) else None
    if text is not None and len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + "..."
    return value


def summarise(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only the fields that changed (all fields on create and delete), minus noise and secrets;
    inside an object (the settings, the client), only its keys that changed."""

    def clean(image: dict[str, Any]) -> dict[str, Any]:
        return {k: _clip(v) for k, v in sorted(image.items()) if k not in NOISE and k not in SECRET_FIELDS}

    if before is None or after is None:
        return (clean(before) if before else None), (clean(after) if after else None)
    return _changes(clean(before), clean(after))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    was: dict[str, Any] = {}
    now: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            was[key], now[key] = _changes(before, after)
        else:
            was[key], now[key] = before, after
    return was, now
