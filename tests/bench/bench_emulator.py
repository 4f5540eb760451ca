"""What a transaction and a query cost on the emulator as the table grows (printed, never asserted).

`python -m tests.bench.bench_emulator [--items N]`: fills the table to N items (default 20,000)
in other partitions, then times a 20-item booking-like transaction (one that commits and one
that fails its last condition) and a one-partition query, at the empty table and at N. With
infra/local/dynamodb_seam.py the ratios stay near 1: cost follows the items touched.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.gateways.aws import client
from infra.local.emulator import start_emulator
from infra.local.provision import provision

ROUNDS = 30


def _transaction(table: str, partition: str, fail: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "pk": {"S": partition},
                    "sk": {"S": f"{n:03d}"},
                    "gsi1pk": {"S": f"{partition}#G"},
                    "gsi1sk": {"S": str(n)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for n in range(19)
    ]
    items.append(
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": {"pk": {"S": "BENCH#never"}, "sk": {"S": "x"}},
                "ConditionExpression": "attribute_exists(pk)" if fail else "attribute_not_exists(pk)",
            }
        }
    )
    return items


def _median_ms(action: Callable[[int], None]) -> float:
    samples = []
    for n in range(ROUNDS):
        started = time.perf_counter()
        action(n)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _measure(table: str, label: str) -> dict[str, float]:
    dynamodb = client("dynamodb")

    def commit(n: int) -> None:
        dynamodb.transact_write_items(TransactItems=_transaction(table, f"BENCH#{label}#ok#{n}", fail=False))

    def fail(n: int) -> None:
        with contextlib.suppress(ClientError):  # it is meant to fail
            dynamodb.transact_write_items(TransactItems=_transaction(table, f"BENCH#{label}#fail#{n}", fail=True))

    def query(n: int) -> None:
        dynamodb.query(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": f"BENCH#{label}#ok#{n}#G"}},
        )

    return {"commit": _median_ms(commit), "fail": _median_ms(fail), "query": _median_ms(query)}


def _fill(table: str, count: int) -> None:
    dynamodb = client("dynamodb")
    for start in range(0, count, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"FILL#{n // 50}"},
                        "sk": {"S": str(n)},
                        "gsi1pk": {"S": f"FILLG#{n // 50}"},
                        "gsi1sk": {"S": str(n)},
                    }
                }
            }
            for n in range(start, min(start + 25, count))
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    items = parser.parse_args().items
    emulator = start_emulator()
    try:
        table = provision({"Stage": "bench"})["AppTable"]
        empty = _measure(table, "empty")
        _fill(table, items)
        full = _measure(table, "full")
        print(f"emulator cost, median of {ROUNDS} (ms): empty table vs {items:,} items")
        for name in ("commit", "fail", "query"):
            print(f"  {name:7} {empty[name]:7.2f} -> {full[name]:7.2f}   ratio {full[name] / empty[name]:.2f}")
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
