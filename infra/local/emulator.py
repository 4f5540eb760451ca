"""The embedded AWS emulator: moto's server on the loopback interface."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests
from moto.server import ThreadedMotoServer

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"


@dataclass
class Emulator:
    server: ThreadedMotoServer
    url: str

    def reset(self) -> None:
        """Forget every resource (tests start each case from an empty account)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.server.stop()


_SERIALIZED_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
    "get_item",
    "query",
    "scan",
    "transact_get_items",
    "batch_get_item",
)
_serialized = False


def serialize_dynamodb_operations() -> None:
    """Give the emulator DynamoDB's isolation: one table operation at a time.

    moto's TransactWriteItems backs the table up, applies items one by one and, when a
    condition fails, restores the backup, silently erasing whatever another thread committed
    meanwhile (seen here: the winner of a slug race lost its item) and exposing half-applied
    transactions to readers. Racing tests must exercise our conditions, not moto's thread
    safety, and the local stack must not lose bookings, so every table operation takes one lock.
    """
    global _serialized
    if _serialized:
        return
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in _SERIALIZED_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        def serialized(
            self: object, *args: object, _original: Callable[..., object] = original, **kwargs: object
        ) -> object:
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, serialized)
    _serialized = True


def start_emulator(port: int = 0) -> Emulator:
    """Start moto's server on 127.0.0.1 (never 0.0.0.0) and point boto3 at it."""
    serialize_dynamodb_operations()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per emulated AWS call is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    url = f"http://{host}:{bound_port}"
    use_emulator_environment(url)
    return Emulator(server, url)


def use_emulator_environment(url: str) -> None:
    """Credentials and endpoint for every boto3/PynamoDB client created from now on."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_REGION": LOCAL_REGION,
            # Stream calls go to an account-id host that moto does not route otherwise.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
