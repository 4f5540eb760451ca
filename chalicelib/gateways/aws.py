"""boto3 clients, built on first use and reused for the life of the process."""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def client(service: str) -> Any:
    """A shared client for `service` in the configured region (endpoint from AWS_ENDPOINT_URL*)."""
    key = (service, region())
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _clients:
            import boto3

            _clients[key] = boto3.session.Session().client(service, region_name=key[1])
        return _clients[key]


def reset_clients() -> None:
    with _lock:
        _clients.clear()
