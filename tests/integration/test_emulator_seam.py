"""The emulator's DynamoDB seam (infra/local/dynamodb_seam.py): atomic, O(k) transactions,
partition-sized queries that stay exact, and stream records released once read."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.gateways.aws import client
from infra.local.emulator import LOCAL_ACCOUNT_ID, LOCAL_REGION


def _table_state(table: str) -> str:
    """Everything a client can observe of the table, as one comparable string."""
    items = client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return json.dumps(sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"])), sort_keys=True)


def _stream_records(table: str) -> list[dict[str, Any]]:
    streams = client("dynamodbstreams")
    arn = client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def _put(table: str, pk: str, sk: str, **attrs: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def _backend_table(table: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION].tables[table]


def test_a_transaction_whose_last_condition_fails_changes_nothing(aws: str) -> None:
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#taken"}, "sk": {"S": "49"}, "v": {"S": "old"}})
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#other"}, "sk": {"S": "0"}, "v": {"S": "kept"}})
    before, stream_before = _table_state(aws), len(_stream_records(aws))
    items = [_put(aws, "P#taken", str(n), v="new", gsi1pk="G#1", gsi1sk=str(n)) for n in range(50)]

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=items)

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = raised.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None"] * 49 + ["ConditionalCheckFailed"]
    assert _table_state(aws) == before
    assert len(_stream_records(aws)) == stream_before
    assert (
        dynamodb.query(
            TableName=aws,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": "G#1"}},
        )["Items"]
        == []
    )


def test_a_transaction_that_fails_while_applying_is_undone_exactly(aws: str) -> None:
    """49 writes apply, then an update expression moto only rejects on execution: all are undone."""
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#x"}, "sk": {"S": "counter"}, "n": {"S": "not a number"}})
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#x"}, "sk": {"S": "0"}, "v": {"S": "before"}})
    before, stream_before = _table_state(aws), len(_stream_records(aws))
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": aws,
                "Key": {"pk": {"S": "P#x"}, "sk": {"S": "0"}},
                "UpdateExpression": "SET v = :v, gsi1pk = :g, gsi1sk = :s",
                "ExpressionAttributeValues": {":v": {"S": "after"}, ":g": {"S": "G#x"}, ":s": {"S": "0"}},
            }
        },
        *[_put(aws, "P#x", f"n{n}") for n in range(48)],
        {
            "Update": {
                "TableName": aws,
                "Key": {"pk": {"S": "P#x"}, "sk": {"S": "counter"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=items)

    assert _table_state(aws) == before
    assert len(_stream_records(aws)) == stream_before
    assert (
        dynamodb.query(
            TableName=aws,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": "G#x"}},
        )["Items"]
        == []
    )


def test_readers_never_observe_part_of_a_transaction(aws: str) -> None:
    """A writer replaces all 20 items of a partition per transaction; readers must see one generation."""
    dynamodb = client("dynamodb")
    dynamodb.transact_write_items(TransactItems=[_put(aws, "P#gen", f"{n:02d}", g="0") for n in range(20)])
    stop = threading.Event()
    seen: list[set[str]] = []

    def write() -> None:
        for generation in range(1, 40):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": aws,
                            "Key": {"pk": {"S": "P#gen"}, "sk": {"S": f"{n:02d}"}},
                            "UpdateExpression": "SET g = :g",
                            "ExpressionAttributeValues": {":g": {"S": str(generation)}},
                        }
                    }
                    for n in range(20)
                ]
            )
        stop.set()

    def read() -> None:
        while not stop.is_set():
            items = dynamodb.query(
                TableName=aws, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#gen"}}
            )["Items"]
            seen.append({i["g"]["S"] for i in items} | {f"count={len(items)}"})

    readers = [threading.Thread(target=read) for _ in range(3)]
    writer = threading.Thread(target=write)
    for thread in (*readers, writer):
        thread.start()
    for thread in (*readers, writer):
        thread.join(timeout=120)

    assert seen, "the readers ran"
    assert all(len(observed) == 2 and "count=20" in observed for observed in seen), [s for s in seen if len(s) != 2][:3]


def test_stream_records_are_released_once_read_and_numbers_keep_growing(aws: str) -> None:
    dynamodb, streams = client("dynamodb"), client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=aws)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    for n in range(30):
        dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#s"}, "sk": {"S": str(n)}})
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]

    first = streams.get_records(ShardIterator=iterator, Limit=1000)
    second = streams.get_records(ShardIterator=first["NextShardIterator"], Limit=1000)  # moves past the 30

    assert len(first["Records"]) == 30 and second["Records"] == []
    assert _backend_table(aws).stream_shard.items == []
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#s"}, "sk": {"S": "late"}})
    latest = streams.get_records(ShardIterator=second["NextShardIterator"])["Records"]
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in latest] == ["late"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in first["Records"] + latest]
    assert numbers == sorted(set(numbers)) and numbers[-1] == numbers[0] + 30
    fresh = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#s"}, "sk": {"S": "later"}})
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in streams.get_records(ShardIterator=fresh)["Records"]] == ["later"]


def test_overwritten_items_are_freed_not_kept_for_moto_s_dashboard(aws: str) -> None:
    import gc
    import weakref

    from moto.dynamodb.models.dynamo_type import Item

    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#w"}, "sk": {"S": "same"}, "n": {"S": "0"}})
    first = weakref.ref(_backend_table(aws).items[_key("P#w")][_key("same")])
    for n in range(1, 50):
        dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#w"}, "sk": {"S": "same"}, "n": {"S": str(n)}})
    gc.collect()

    assert first() is None  # the first version is gone once replaced
    assert Item.instances_tracked == []


def _key(value: str) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType({"S": value})


@pytest.fixture
def verified_fast_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.local import dynamodb_seam

    monkeypatch.setattr(dynamodb_seam, "VERIFY_FAST_JSON", True)


_RICH = {
    "s": {"S": "text é"},
    "n": {"N": "12.50"},
    "b": {"B": b"\x00\x01"},
    "bool": {"BOOL": False},
    "null": {"NULL": True},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"x": {"S": "y"}}}]},
    "m": {"M": {"inner": {"L": []}, "deep": {"M": {"n": {"N": "-3"}}}}},
    "ss": {"SS": ["b", "a"]},
    "ns": {"NS": ["1", "2.5"]},
}


def test_item_responses_written_as_plain_json_equal_moto_s_own_serializer(aws: str, verified_fast_json: None) -> None:
    from infra.local.dynamodb_seam import FAST_JSON_WRITTEN

    dynamodb = client("dynamodb")
    textual = {k: v for k, v in _RICH.items() if k != "b"}  # no binary: Query and Scan take the fast path
    for n in range(3):
        dynamodb.put_item(TableName=aws, Item={"pk": {"S": "P#t"}, "sk": {"S": f"{n}"}, **textual})
    fast_queries = FAST_JSON_WRITTEN["Query"]
    dynamodb.query(TableName=aws, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#t"}})
    dynamodb.query(
        TableName=aws,
        KeyConditionExpression="pk = :p AND sk > :s",
        ExpressionAttributeValues={":p": {"S": "P#t"}, ":s": {"S": "0"}},
        Limit=1,
        ScanIndexForward=False,
    )
    assert FAST_JSON_WRITTEN["Query"] == fast_queries + 2
    fast_reads = FAST_JSON_WRITTEN["GetRecords"]
    assert [r["eventName"] for r in _stream_records(aws)] == ["INSERT"] * 3  # images, instants and all
    assert FAST_JSON_WRITTEN["GetRecords"] == fast_reads + 1
    for n in range(5):
        item = {"pk": {"S": "P#j"}, "sk": {"S": f"{n}"}, **_RICH, "gsi1pk": {"S": "G#j"}, "gsi1sk": {"S": str(n)}}
        dynamodb.put_item(TableName=aws, Item=item, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
    key = {"pk": {"S": "P#j"}, "sk": {"S": "0"}}
    dynamodb.put_item(TableName=aws, Item={**key, "s": {"S": "again"}}, ReturnValues="ALL_OLD")
    dynamodb.get_item(TableName=aws, Key=key, ConsistentRead=True)
    dynamodb.get_item(TableName=aws, Key={"pk": {"S": "P#none"}, "sk": {"S": "0"}})
    dynamodb.update_item(
        TableName=aws,
        Key={"pk": {"S": "P#j"}, "sk": {"S": "1"}},
        UpdateExpression="SET n = n + :one, m.added = :l REMOVE ss",
        ExpressionAttributeValues={":one": {"N": "1"}, ":l": {"L": [{"BOOL": True}]}},
        ReturnValues="ALL_NEW",
    )
    dynamodb.update_item(
        TableName=aws, Key=key, UpdateExpression="SET s = :s", ExpressionAttributeValues={":s": {"S": "x"}}
    )
    first = dynamodb.query(
        TableName=aws,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "P#j"}},
        Limit=2,
        ReturnConsumedCapacity="TOTAL",
    )
    dynamodb.query(
        TableName=aws,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "P#j"}},
        ExclusiveStartKey=first["LastEvaluatedKey"],
        ProjectionExpression="sk, m.deep",
        ScanIndexForward=False,
    )
    dynamodb.query(
        TableName=aws,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g",
        ExpressionAttributeValues={":g": {"S": "G#j"}},
        Select="COUNT",
    )
    dynamodb.scan(TableName=aws, Limit=3)
    dynamodb.batch_get_item(RequestItems={aws: {"Keys": [key, {"pk": {"S": "P#j"}, "sk": {"S": "2"}}]}})
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": aws, "Key": key}}])
    dynamodb.transact_write_items(TransactItems=[_put(aws, "P#j", "t")], ReturnConsumedCapacity="TOTAL")
    dynamodb.batch_write_item(RequestItems={aws: [{"DeleteRequest": {"Key": {"pk": {"S": "P#j"}, "sk": {"S": "4"}}}}]})
    deleted = dynamodb.delete_item(TableName=aws, Key={"pk": {"S": "P#j"}, "sk": {"S": "3"}}, ReturnValues="ALL_OLD")

    assert deleted["Attributes"]["b"]["B"] == b"\x00\x01" and deleted["Attributes"]["ns"]["NS"] == ["1", "2.5"]


_KEYS = st.sampled_from([f"k{n}" for n in range(6)])
_GROUPS = st.sampled_from(["A", "B", None])
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _KEYS, _GROUPS),
        st.tuples(st.just("move"), _KEYS, _GROUPS),
        st.tuples(st.just("delete"), _KEYS, st.none()),
        st.tuples(st.just("transact"), _KEYS, _GROUPS),
    ),
    max_size=25,
)
_BOUNDS = st.sampled_from(["0", "k", "k0", "k2", "k3", "k5", "k9", "l"])
_SORT_CONDITIONS = st.lists(
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]), _BOUNDS, _BOUNDS), max_size=6
)


def _holds(condition: tuple[str, str, str], value: str) -> bool:
    operator, first, second = condition
    return {
        "=": value == first,
        "<": value < first,
        "<=": value <= first,
        ">": value > first,
        ">=": value >= first,
        "BETWEEN": first <= value <= second,
        "begins_with": value.startswith(first),
    }[operator]


def _key_condition(condition: tuple[str, str, str], name: str) -> str:
    operator = condition[0]
    if operator == "BETWEEN":
        return f"{name} BETWEEN :a AND :b"
    return f"begins_with({name}, :a)" if operator == "begins_with" else f"{name} {operator} :a"


def _query_all(dynamodb: Any, **asked: Any) -> list[dict[str, Any]]:
    """Every page of a query, two items a page (so resuming from a key is exercised too)."""
    items: list[dict[str, Any]] = []
    while True:
        page = dynamodb.query(Limit=2, **asked)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        asked["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    initial=st.lists(_GROUPS, min_size=6, max_size=6),
    operations=_OPERATIONS,
    conditions=_SORT_CONDITIONS,
    forward=st.booleans(),
)
def test_partition_queries_always_equal_a_filter_over_the_whole_table(
    aws: str,
    initial: list[str | None],
    operations: list[Any],
    conditions: list[tuple[str, str, str]],
    forward: bool,
) -> None:
    """Whatever the writes and the sort key condition, the indexed Query answers what
    scanning everything would, in the same order, page by page."""
    dynamodb = client("dynamodb")
    for item in dynamodb.scan(TableName=aws)["Items"]:  # an earlier example's items (it may have failed)
        dynamodb.delete_item(TableName=aws, Key={"pk": item["pk"], "sk": item["sk"]})
    for kind, key, group in [("put", f"k{n}", group) for n, group in enumerate(initial)] + operations:
        item_key = {"pk": {"S": "P#h"}, "sk": {"S": key}}
        if kind == "put":
            item = {**item_key, **({"gsi1pk": {"S": group}, "gsi1sk": {"S": key[::-1]}} if group else {})}
            dynamodb.put_item(TableName=aws, Item=item)
        elif kind == "move":
            expression = "SET gsi1pk = :g, gsi1sk = :s" if group else "REMOVE gsi1pk, gsi1sk"
            values = {":g": {"S": group}, ":s": {"S": key}} if group else None
            dynamodb.update_item(
                TableName=aws,
                Key=item_key,
                UpdateExpression=expression,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        elif kind == "delete":
            dynamodb.delete_item(TableName=aws, Key=item_key)
        else:  # a transaction that always fails: it must leave no trace in any index
            with pytest.raises(ClientError):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": aws, "Item": {**item_key, "gsi1pk": {"S": "C"}, "gsi1sk": {"S": key}}}},
                        {
                            "ConditionCheck": {
                                "TableName": aws,
                                "Key": {"pk": {"S": "P#never"}, "sk": {"S": "x"}},
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                    ]
                )
    everything = dynamodb.scan(TableName=aws)["Items"]
    for group in ("A", "B", "C"):
        expected = sorted(i["gsi1sk"]["S"] for i in everything if i.get("gsi1pk", {}).get("S") == group)
        answer = dynamodb.query(
            TableName=aws,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": group}},
        )["Items"]
        assert [i["gsi1sk"]["S"] for i in answer] == expected
    base = dynamodb.query(
        TableName=aws, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#h"}}
    )
    assert sorted(i["sk"]["S"] for i in base["Items"]) == sorted(
        i["sk"]["S"] for i in everything if i["pk"]["S"] == "P#h"
    )
    for condition in conditions:
        values = {":a": {"S": condition[1]}, **({":b": {"S": condition[2]}} if condition[0] == "BETWEEN" else {})}
        for group in ("A", "B"):
            in_group = [i for i in everything if i.get("gsi1pk", {}).get("S") == group]
            expected = sorted(i["gsi1sk"]["S"] for i in in_group if _holds(condition, i["gsi1sk"]["S"]))
            answer = _query_all(
                dynamodb,
                TableName=aws,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :g AND " + _key_condition(condition, "gsi1sk"),
                ExpressionAttributeValues={":g": {"S": group}, **values},
                ScanIndexForward=forward,
            )
            assert [i["gsi1sk"]["S"] for i in answer] == (expected if forward else expected[::-1]), condition
        in_base = [i["sk"]["S"] for i in everything if i["pk"]["S"] == "P#h"]
        expected = sorted(sk for sk in in_base if _holds(condition, sk))
        answer = _query_all(
            dynamodb,
            TableName=aws,
            KeyConditionExpression="pk = :p AND " + _key_condition(condition, "sk"),
            ExpressionAttributeValues={":p": {"S": "P#h"}, **values},
            ScanIndexForward=forward,
        )
        assert [i["sk"]["S"] for i in answer] == (expected if forward else expected[::-1]), condition
