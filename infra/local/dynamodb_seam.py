"""The one place the local stack changes moto's DynamoDB, and why.

moto 5.2.5 is a faithful model of DynamoDB's API but not of its costs, and the local stack
is a product people run for a day: every cost that grows with the table becomes latency
and memory that grow with every booking. What this module changes, each a narrow patch of
one moto method, installed once per process by `install()`:

- **Isolation.** Every table operation (and every stream read) takes one process-wide
  lock. moto applies a transaction item by item; without the lock, readers could observe
  half of one and writers could interleave with it. Real DynamoDB needs no such thing.
- **Transactions cost what they touch.** moto deep-copies every table a transaction names
  once per item (a booking writes ~20 items), so each transaction cost O(table) in time
  and garbage. Here conditions are checked first against the unchanged table (each item
  appears once, so that is DynamoDB's semantics); nothing is written unless all pass. An
  error while applying (a bad update expression) is undone from a journal of exactly the
  items touched and the stream records they produced, so a failed transaction leaves the
  table as it was.
- **Retried transactions are idempotent.** A TransactWriteItems with a
  `ClientRequestToken` that already succeeded in the last 10 minutes succeeds again
  without writing (a different request under that token is refused with
  IdempotentParameterMismatchException), as on AWS; moto ignores the token. Without this,
  an SDK retry after a lost response (a read timeout) collides with its own first attempt
  and a booking that was made answers 409.
- **Queries read their range.** moto's Query sorts and walks every item of the table,
  even for one partition, and sizes every item of the partition, matched or not. Here each
  table keeps an index of its base-table and GSI partitions, each in sort-key order,
  maintained on every write, so a Query hands moto only the items its key condition can
  match (moto still applies the condition): O(log partition + matches). A tenant's
  occupancy index holds every appointment it ever had; a booking's query of one day no
  longer grows with them.
- **Streams release what was read.** moto keeps every stream record forever. Here a read
  at sequence number s releases the records before s (the reader has them); sequence
  numbers keep growing. Shard iterators expire after 15 minutes, as on AWS.
- **Item responses are plain JSON.** moto serialises every response through a generic,
  shape-driven serializer that tries several attribute aliases for every key of every
  item; on a loaded stack that was over half the emulator's CPU. The results of the item
  operations (`FAST_JSON_OPERATIONS`) are already in DynamoDB's wire format, so they are
  written with `json.dumps`, dropping None as the serializer does. Anything else (bytes,
  a timestamp, another operation, an error) takes moto's own path. `VERIFY_FAST_JSON`
  makes every fast response be checked against moto's serializer (a test turns it on).
- **Service routing is cached.** moto's server lists its package directory (~150
  `isdir` calls) on every request to route it; the listing never changes while it runs.
- **Models are not tracked.** moto's `BaseModel.__new__` appends every instance it ever
  creates (each DynamoDB Item version, stream record, shard iterator, schedule, sent mail)
  to a class-level list, only for its /moto-api/data.json dashboard; nothing else reads
  it. That list grew by ~120 Items per booking, forever. Here instances are not recorded:
  the dashboard lists none, and memory is what the resources themselves hold.
- **Sent mail is bounded.** moto keeps every message SES sent, for its inspection API;
  only the newest `SENT_MAIL_KEPT` are kept (the local outbox holds every mail on disk).

The patches mirror moto 5.2.5's own code paths (requirements-dev pins it); a test fails
on another version so an upgrade is a deliberate review of this file.
"""

from __future__ import annotations

import bisect
import calendar
import collections
import copy
import datetime
import decimal
import functools
import hashlib
import inspect
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import moto
from moto.core.common_models import BaseModel
from moto.core.responses import ActionResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator
from moto.ses.models import SESBackend

SUPPORTED_MOTO = "5.2.5"
SHARD_ITERATOR_LIFETIME_SECONDS = 15 * 60
SENT_MAIL_KEPT = 500
CLIENT_TOKEN_WINDOW_SECONDS = 10 * 60
FAST_JSON_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "GetRecords",
    }
)
VERIFY_FAST_JSON = False  # tests: compare every fast body with moto's serializer
FAST_JSON_WRITTEN: collections.Counter[str] = collections.Counter()  # operation -> fast bodies written

LOCK = threading.RLock()
_installed = False

ItemKey = tuple[DynamoType, DynamoType | None]

_LOCKED_BACKEND_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "get_item",
    "query",
    "scan",
    "transact_get_items",
    "batch_get_item",
    "create_table",
    "delete_table",
    "update_table",
    "describe_table",
)


def install() -> None:
    """Apply every patch once per process (idempotent)."""
    global _installed
    with LOCK:
        if _installed:
            return
        if moto.__version__ != SUPPORTED_MOTO:
            raise RuntimeError(f"infra/local/dynamodb_seam.py mirrors moto {SUPPORTED_MOTO}, not {moto.__version__}")
        _install_partition_index()
        _install_transactions()
        _install_stream_release()
        _install_bounded_mail()
        _install_untracked_models()
        _install_fast_item_json()
        _install_cached_routing()
        for name in _LOCKED_BACKEND_OPERATIONS:
            setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
        for name in ("describe_stream", "get_shard_iterator", "get_records"):
            setattr(DynamoDBStreamsBackend, name, _locked(getattr(DynamoDBStreamsBackend, name)))
        _installed = True


def _locked(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return operation(*args, **kwargs)

    return locked


# --- Partition index ---------------------------------------------------------------------


BASE = ""  # the base table's entry among the indexed key schemas


def _sortable(value: DynamoType | None) -> tuple[str, Any] | None:
    """A sort key value in DynamoDB's order (S by code point = UTF-8 byte order, N by number)."""
    if value is None:
        return None
    if value.type == "S":
        return ("S", value.value)
    if value.type == "N":
        return ("N", decimal.Decimal(value.value))
    return None  # binary keys: this index does not order them


@dataclass
class SortedPartition:
    """One partition's items, in sort-key order, so a key condition reads only its range."""

    items: dict[ItemKey, Item] = field(default_factory=dict)
    # (sort value, seq, key), sorted; seq is unique, so comparisons never reach the key
    order: list[tuple[tuple[str, Any], int, ItemKey]] = field(default_factory=list)
    position: dict[ItemKey, tuple[tuple[str, Any], int, ItemKey]] = field(default_factory=dict)
    unordered: dict[ItemKey, Item] = field(default_factory=dict)  # no sort value we can order
    sequence: Iterator[int] = field(default_factory=itertools.count)

    def put(self, key: ItemKey, item: Item, sort_value: tuple[str, Any] | None) -> None:
        self.remove(key)
        self.items[key] = item
        if sort_value is None:
            self.unordered[key] = item
            return
        entry = (sort_value, next(self.sequence), key)
        bisect.insort(self.order, entry)
        self.position[key] = entry

    def remove(self, key: ItemKey) -> None:
        if self.items.pop(key, None) is None:
            return
        self.unordered.pop(key, None)
        entry = self.position.pop(key, None)
        if entry is not None:
            del self.order[bisect.bisect_left(self.order, entry)]

    def __len__(self) -> int:
        return len(self.items)

    def matching(self, comparison: str | None, operands: list[DynamoType] | None) -> list[Item]:
        """Every item the key condition can match (a superset: moto still applies the condition)."""
        bounds = _bounds(comparison, operands or [])
        if bounds is None:
            return list(self.items.values())
        low, high, prefix = bounds
        start = 0 if low is None else bisect.bisect_left(self.order, (low, -1))
        found = list(self.unordered.values())
        for sort_value, _, key in itertools.islice(self.order, start, None):
            if high is not None and sort_value > high:
                break
            if prefix is not None and not (sort_value[0] == "S" and sort_value[1].startswith(prefix)):
                break
            found.append(self.items[key])
        return found


Bound = tuple[str, Any]


def _bounds(comparison: str | None, operands: list[DynamoType]) -> tuple[Bound | None, Bound | None, str | None] | None:
    """(lowest, highest, string prefix) a key condition allows; None when it cannot be bounded."""
    values = [_sortable(o) for o in operands]
    if comparison is None or not values or any(v is None for v in values):
        return None
    first = values[0]
    assert first is not None
    if comparison == "EQ":
        return first, first, None
    if comparison in ("LT", "LE"):
        return (first[0], "") if first[0] == "S" else (first[0], decimal.Decimal("-Infinity")), first, None
    if comparison in ("GT", "GE"):
        return first, None, None
    if comparison == "BETWEEN" and len(values) == 2:
        return first, values[1], None
    if comparison == "BEGINS_WITH" and first[0] == "S":
        return first, None, str(first[1])
    return None


@dataclass
class PartitionIndex:
    """Every partition of one table, base and GSI, each in its sort key's order.

    moto keeps a table as a dict of partitions and walks the whole table for a GSI query;
    a query then sorted and sized every item of the partition it asked for. A tenant's
    occupancy index holds all of its appointments, so a booking's query grew with every
    booking made; here it reads the range it asks for."""

    schemas: dict[str, tuple[tuple[str, ...], str | None]]  # index (BASE: the table) -> hash names, range name
    partitions: dict[str, dict[tuple[Any, ...], SortedPartition]] = field(default_factory=dict)
    placed: dict[str, dict[ItemKey, tuple[Any, ...]]] = field(default_factory=dict)

    def place(self, key: ItemKey, item: Item | None) -> None:
        """Record where `key` now sits in every index (nowhere, when the item is gone)."""
        for index, (hash_names, range_name) in self.schemas.items():
            placed = self.placed.setdefault(index, {})
            partitions = self.partitions.setdefault(index, {})
            before = placed.pop(key, None)
            if before is not None:
                partition = partitions[before]
                partition.remove(key)
                if not partition:
                    del partitions[before]
            after = _hash_of(item, hash_names) if item is not None else None
            if item is not None and after is not None:
                placed[key] = after
                sort_value = _sortable(item.attrs.get(range_name)) if range_name else None
                partitions.setdefault(after, SortedPartition()).put(key, item, sort_value)

    def partition(self, index: str, hash_value: tuple[Any, ...]) -> SortedPartition:
        return self.partitions.get(index, {}).get(hash_value) or SortedPartition()


def _hash_of(item: Item, attributes: tuple[str, ...]) -> tuple[Any, ...] | None:
    values = []
    for name in attributes:
        value = item.attrs.get(name)
        if value is None:
            return None
        values.append(value)
    return tuple(values)


def _index_of(table: Table) -> PartitionIndex:
    index: PartitionIndex | None = table.__dict__.get("_seam_index")
    if index is None:
        schemas: dict[str, tuple[tuple[str, ...], str | None]] = {BASE: ((table.hash_key_attr,), table.range_key_attr)}
        for gsi in table.global_indexes:
            ranges = [k["AttributeName"] for k in gsi.schema if k["KeyType"] == "RANGE"]
            hash_names = tuple(k["AttributeName"] for k in gsi.schema if k["KeyType"] == "HASH")
            schemas[gsi.name] = (hash_names, ranges[0] if len(ranges) == 1 else None)
        index = PartitionIndex(schemas)
        for item in _every_item(table):
            index.place((item.hash_key, item.range_key), item)
        table.__dict__["_seam_index"] = index
    return index


def _every_item(table: Table) -> Iterable[Item]:
    for hash_set in table.items.values():
        if table.range_key_attr:
            yield from hash_set.values()
        else:
            yield hash_set  # type: ignore[misc]


def _current(table: Table, key: ItemKey) -> Item | None:
    hash_key, range_key = key
    partition = table.items.get(hash_key)
    if partition is None:
        return None
    if table.range_key_attr:
        found: Item | None = partition.get(range_key)
        return found
    return partition  # type: ignore[return-value]


def _reindex(table: Table, key: ItemKey) -> None:
    """After any write of `key`: move it in the GSI index and drop an emptied partition."""
    hash_key, _ = key
    if table.range_key_attr and hash_key in table.items and not table.items[hash_key]:
        del table.items[hash_key]
    if "_seam_index" in table.__dict__:
        _index_of(table).place(key, _current(table, key))


def _install_partition_index() -> None:
    original_put = Table.put_item
    original_delete = Table.delete_item
    original_update = DynamoDBBackend.update_item
    original_query = Table.query

    @functools.wraps(original_put)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original_put(self, *args, **kwargs)
        _reindex(self, (item.hash_key, item.range_key))
        return item

    @functools.wraps(original_delete)
    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        try:
            return original_delete(self, hash_key, range_key)
        finally:
            _reindex(self, (hash_key, range_key))

    @functools.wraps(original_update)
    def update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        table = self.get_table(table_name)
        try:
            return original_update(self, table_name, key, *args, **kwargs)
        finally:  # the item may have been created or changed in place, even when the update then failed
            _reindex(table, self.get_keys_value(table, key))

    query_signature = inspect.signature(original_query)

    @functools.wraps(original_query)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = query_signature.bind(self, *args, **kwargs).arguments
        candidates = _query_candidates(
            self,
            asked.get("hash_key"),
            asked.get("index_name"),
            asked.get("hash_key_conditions"),
            asked.get("range_comparison"),
            asked.get("range_objs"),
        )
        if candidates is None:
            return original_query(self, *args, **kwargs)
        # moto's Query walks self.all_items(); hand it the partition instead (safe: under LOCK).
        self.__dict__["all_items"] = lambda: candidates
        try:
            return original_query(self, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]


def _query_candidates(
    table: Table,
    hash_key: DynamoType | None,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None,
    range_comparison: str | None,
    range_operands: list[DynamoType] | None,
) -> list[Item] | None:
    """The items of the queried partition that the key condition can match, sorted as moto's
    all_items() sorts; None = not a shape this index answers (moto walks the table)."""
    index = _index_of(table)
    if index_name is None:
        if hash_key is None:
            return None
        partition = index.partition(BASE, (hash_key,))
    elif index_name in {i.name for i in table.indexes}:  # a local index: its own sort key
        if hash_key is None:
            return None
        range_comparison = None
        partition = index.partition(BASE, (hash_key,))
    else:
        schema = index.schemas.get(index_name)
        conditions = dict(hash_key_conditions or ())
        if schema is None or set(conditions) != set(schema[0]):
            return None
        if schema[1] is None:
            range_comparison = None
        partition = index.partition(index_name, tuple(conditions[a] for a in schema[0]))
    items = partition.matching(range_comparison, range_operands)
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


# --- Transactions ------------------------------------------------------------------------


@dataclass
class _Journal:
    """What a transaction changed, to put back exactly that when it fails part-way."""

    before: list[tuple[Table, ItemKey, Item | None]] = field(default_factory=list)
    stream_lengths: dict[str, int] = field(default_factory=dict)

    def remember(self, table: Table, key: ItemKey, current: Item | None, in_place: bool) -> None:
        if table.name not in self.stream_lengths and table.stream_shard is not None:
            self.stream_lengths[table.name] = len(table.stream_shard.items)
        # A Put or Delete swaps the Item object out; an Update changes it in place, so copy it.
        self.before.append((table, key, copy.deepcopy(current) if in_place else current))

    def undo(self, tables: dict[str, Table]) -> None:
        for table, key, item in reversed(self.before):
            hash_key, range_key = key
            if item is None:
                if table.range_key_attr:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items.pop(hash_key, None)
            elif table.range_key_attr:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item  # type: ignore[assignment]
            _reindex(table, key)
        for name, length in self.stream_lengths.items():
            shard = tables[name].stream_shard
            if shard is not None:
                del shard.items[length:]


def _operation_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> tuple[Table, dict[str, Any]]:
    table = backend.get_table(op["TableName"])
    if op_type != "Put":
        return table, op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return table, key


def _condition_failure(backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]) -> dict[str, Any] | None:
    """moto's own condition check of one transaction item, against the unchanged table.

    None when it holds; else the cancellation's item (the current one, with ALL_OLD, or {}).
    """
    expression = op.get("ConditionExpression")
    if expression is None:
        return None
    current = backend.get_item(op["TableName"], key)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return None
    wants_old = current is not None and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    return current.to_json()["Attributes"] if wants_old else {}  # type: ignore[union-attr]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems at the cost of its own items: check every condition, then apply all."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    operations: list[tuple[str, dict[str, Any], Table, dict[str, Any]]] = []
    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table, key = _operation_key(self, op_type, op)
            identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            operations.append((op_type, op, table, key))
            failed_item = _condition_failure(self, op, key)
            if failed_item is not None:
                message = ConditionalCheckFailed().message
                errors.append(("ConditionalCheckFailed", str(message), failed_item or None))
            else:
                errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as error:  # moto reports any other problem as that item's cancellation reason
            errors.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    _apply(self, operations)


def _apply(self: DynamoDBBackend, operations: list[tuple[str, dict[str, Any], Table, dict[str, Any]]]) -> None:
    journal = _Journal()
    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    try:
        for op_type, op, table, key in operations:
            item_key = self.get_keys_value(table, key)
            journal.remember(table, item_key, _current(table, item_key), in_place=op_type == "Update")
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            try:
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names or {},
                        expression_attribute_values=values or {},
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                    )
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names or {},
                        expression_attribute_values=values or {},
                    )
                errors.append((None, None, None))
            except MockValidationException:
                raise
            except Exception as error:
                errors.append((type(error).__name__, str(error), None))
    except BaseException:
        journal.undo(self.tables)
        raise
    if any(code is not None for code, _, _ in errors):
        journal.undo(self.tables)
        raise TransactionCanceledException(errors)


class IdempotentParameterMismatchException(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException"

    def __init__(self) -> None:
        super().__init__(
            self.error_type, message="The request uses the same client token as a previous, different request."
        )


@dataclass
class ClientTokens:
    """ClientRequestTokens of transactions that succeeded, kept for DynamoDB's 10-minute window."""

    window: float = CLIENT_TOKEN_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    seen: collections.OrderedDict[str, tuple[str, float]] = field(default_factory=collections.OrderedDict)

    def replayed(self, token: str, fingerprint: str) -> bool:
        """True when this exact request already succeeded under `token` (raise if another did)."""
        self._forget_expired()
        previous = self.seen.get(token)
        if previous is None:
            return False
        if previous[0] != fingerprint:
            raise IdempotentParameterMismatchException()
        return True

    def succeeded(self, token: str, fingerprint: str) -> None:
        self.seen[token] = (fingerprint, self.clock() + self.window)
        self.seen.move_to_end(token)

    def _forget_expired(self) -> None:
        now = self.clock()
        while self.seen and next(iter(self.seen.values()))[1] <= now:
            self.seen.popitem(last=False)


CLIENT_TOKENS = ClientTokens()


def _install_transactions() -> None:
    DynamoDBBackend.transact_write_items = _locked(transact_write_items)  # type: ignore[method-assign]
    handle = DynamoHandler.transact_write_items

    @functools.wraps(handle)
    def idempotent(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if token is None:
            return handle(self)
        fingerprint = hashlib.sha256(json.dumps(self.body["TransactItems"], sort_keys=True).encode()).hexdigest()
        with LOCK:
            if CLIENT_TOKENS.replayed(str(token), fingerprint):
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = handle(self)
            CLIENT_TOKENS.succeeded(str(token), fingerprint)
            return result

    DynamoHandler.transact_write_items = idempotent  # type: ignore[method-assign]


# --- Streams -----------------------------------------------------------------------------


def _released(shard: StreamShard) -> int:
    count: int = shard.__dict__.get("released", 0)
    return count


def _install_stream_release() -> None:
    from moto.dynamodb.models.table import StreamRecord

    def add(self: StreamShard, old: Item | None, new: Item | None) -> None:
        view_type = self.table.stream_specification["StreamViewType"]  # type: ignore[index]
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        sequence = _released(self) + len(self.items) + self.starting_sequence_number
        self.items.append(StreamRecord(self.table, view_type, event_name, old, new, sequence))
        delivered = None
        for arn, mapping in self.table.lambda_event_source_mappings.items():  # moto's Lambda, as moto does it
            from moto.awslambda.utils import get_backend

            delivered = get_backend(self.account_id, arn.split(":")[3]).send_dynamodb_items(
                arn, self.items, mapping.event_source_arn
            )
        if delivered:
            self.__dict__["released"] = _released(self) + len(self.items)
            self.items = []

    def get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
        offset = start - self.starting_sequence_number - _released(self)
        if offset > 0:  # the reader has every record before `start`: release them
            released = min(offset, len(self.items))
            del self.items[:released]
            self.__dict__["released"] = _released(self) + released
            offset -= released
        offset = max(offset, 0)  # before the trim horizon: read from the oldest record kept
        return [record.to_json() for record in self.items[offset : offset + quantity]]

    original_iterator_init = ShardIterator.__init__

    def iterator_init(self: ShardIterator, backend: Any, shard: StreamShard, kind: str, *args: Any) -> None:
        original_iterator_init(self, backend, shard, kind, *args)
        if kind == "LATEST":
            self.sequence_number += _released(shard)
        self.__dict__["issued_at"] = time.monotonic()

    original_get_records = DynamoDBStreamsBackend.get_records

    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
        _expire_iterators(self.shard_iterators)
        answer: dict[str, Any] = original_get_records(self, iterator_arn, limit)
        return answer

    StreamShard.add = add  # type: ignore[method-assign]
    StreamShard.get = get  # type: ignore[method-assign]
    ShardIterator.__init__ = iterator_init  # type: ignore[method-assign,assignment]
    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


def _expire_iterators(iterators: dict[str, ShardIterator]) -> None:
    """Iterators are issued in order, so the expired ones are at the front of the dict."""
    horizon = time.monotonic() - SHARD_ITERATOR_LIFETIME_SECONDS
    while iterators:
        arn, oldest = next(iter(iterators.items()))
        if oldest.__dict__.get("issued_at", horizon) >= horizon:
            return
        del iterators[arn]


# --- Mail --------------------------------------------------------------------------------


def _install_bounded_mail() -> None:
    original_init = SESBackend.__init__

    def init(self: SESBackend, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.sent_messages = collections.deque(maxlen=SENT_MAIL_KEPT)  # type: ignore[assignment]

    SESBackend.__init__ = init  # type: ignore[method-assign]


# --- Model tracking ----------------------------------------------------------------------


def _install_untracked_models() -> None:
    def untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
        instance: BaseModel = super(BaseModel, cls).__new__(cls)
        return instance

    BaseModel.__new__ = staticmethod(untracked_new)  # type: ignore[method-assign]


# --- Response serialisation --------------------------------------------------------------


class _NotPlainJson(Exception):
    """A value the fast path does not write (moto's serializer converts it)."""


def _wire(value: Any) -> Any:
    """`value` as moto's JSON serializer writes it: None-valued keys dropped, only JSON types,
    instants as epoch seconds truncated to the millisecond (as its timestamp serializer does)."""
    if isinstance(value, datetime.datetime):
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    if isinstance(value, dict):
        return {str(k): _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _NotPlainJson(type(value).__name__)


def _install_fast_item_json() -> None:
    from moto.core.responses import ActionContext
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: ActionContext) -> Any:
        operation = str(context.operation_model.name)
        if operation not in FAST_JSON_OPERATIONS or not isinstance(self.result, dict):
            return original(self, context)
        try:
            body = json.dumps(_wire(self.result))
        except _NotPlainJson:
            return original(self, context)
        if VERIFY_FAST_JSON:
            expected = original(self, context)
            if json.loads(expected[2]) != json.loads(body):
                raise AssertionError(f"fast {operation} body differs: {body} != {expected[2]!r}")
        FAST_JSON_WRITTEN[operation] += 1
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]

    # A stream read returns up to a thousand records, each with two item images: the pump's
    # every round. Its result is a plain ActionResult, so it is given the same fast body.
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    class StreamRecordsResult(ActionResult):
        pass

    StreamRecordsResult.execute_result = execute_result  # type: ignore[method-assign,assignment]

    original_get_records = DynamoDBStreamsHandler.get_records

    def get_records(self: DynamoDBStreamsHandler) -> ActionResult:
        answer = original_get_records(self)
        return StreamRecordsResult(answer.result)

    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]


def _install_cached_routing() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
