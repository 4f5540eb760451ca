"""Binding the models to the configured table, once per process, on one shared connection.

A PynamoDB connection costs 50-75 ms to build (a new botocore session), so every model
class shares the base model's connection, and transactions reuse it too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import DEFAULT_TABLE_NAME, TableItem, all_models

_lock = threading.Lock()
Binding = tuple[str, str, str]  # table name, region, endpoint ("" = AWS's own)
_bound: Binding | None = None  # what the models were last checked against
_connected: Binding | None = None  # what their shared connection was built for


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _wanted() -> Binding:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or ""
    return (os.environ.get("TABLE_NAME", DEFAULT_TABLE_NAME), _region(), endpoint)


def ensure_bound() -> None:
    """Point every model at TABLE_NAME in the current region; cheap after the first call."""
    global _bound, _connected
    wanted = _wanted()
    if _bound == wanted:
        return
    with _lock:
        if _bound == wanted:
            return
        if _connected != wanted:
            for model in all_models():
                model.Meta.table_name = wanted[0]
                model.Meta.region = wanted[1]  # type: ignore[attr-defined]
                model._connection = None
            shared = TableItem._get_connection()
            for model in all_models():
                model._connection = shared
            _connected = wanted
        _bound = wanted


def reset_binding() -> None:
    """Re-read the configuration on next use (tests switch tables and endpoints between cases).

    A connection built for the same table, region and endpoint is kept: tests rebind before
    every case, and a new connection would cost them its 50-75 ms each time.
    """
    global _bound
    with _lock:
        _bound = None


def connection() -> Connection:
    ensure_bound()
    return TableItem._get_connection().connection


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """One TransactWriteItems on the shared connection."""
    with TransactWrite(connection=connection()) as tx:
        yield tx


def is_condition_failure(exc: Exception) -> bool:
    """True when a write failed only because its condition did not hold."""
    if isinstance(exc, TransactWriteError):
        return exc.cause_response_code == "TransactionCanceledException" and any(
            reason is not None and reason.code == "ConditionalCheckFailed" for reason in exc.cancellation_reasons or []
        )
    if isinstance(exc, (PutError, UpdateError)):
        return exc.cause_response_code == "ConditionalCheckFailedException"
    return False


def failed_positions(exc: TransactWriteError) -> list[int]:
    """Indexes of the transaction items whose condition failed."""
    return [
        i
        for i, reason in enumerate(exc.cancellation_reasons or [])
        if reason is not None and reason.code == "ConditionalCheckFailed"
    ]
