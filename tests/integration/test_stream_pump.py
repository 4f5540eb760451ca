"""The local stream pump's lanes (Lambda's ParallelizationFactor): records of one partition
key stay in order, lanes are delivered at the same time, and a failing record holds back
only its own lane."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from chalicelib.gateways.aws import client
from infra.local.pumps import PumpRunner, StreamPump


def _write(table: str, partitions: int, versions: int) -> None:
    dynamodb = client("dynamodb")
    for version in range(versions):
        for p in range(partitions):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"P#{p}"}, "sk": {"S": "x"}, "v": {"N": str(version)}})


def _partition(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["pk"]["S"])


def _version(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["NewImage"]["v"]["N"])


def test_lanes_deliver_at_once_and_keep_each_partition_in_order(aws: str) -> None:
    _write(aws, partitions=12, versions=5)
    seen: dict[str, list[int]] = defaultdict(list)
    two_at_once = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    calls = [0]

    def deliver(batch: list[dict[str, Any]]) -> dict[str, Any]:
        with lock:
            calls[0] += 1
            first_two = calls[0] <= 2
        if first_two:
            two_at_once.wait()  # BrokenBarrierError unless a second lane is in `deliver` meanwhile
        with lock:
            for record in batch:
                seen[_partition(record)].append(_version(record))
        return {"batchItemFailures": []}

    pump = StreamPump(aws, deliver, batch_size=3, parallelization=4)
    try:
        delivered = pump.run_once()
    finally:
        pump.close()

    assert delivered == 60
    assert {p: v for p, v in seen.items()} == {f"P#{p}": [0, 1, 2, 3, 4] for p in range(12)}


def test_a_failing_record_holds_back_only_its_lane_and_is_retried_from_there(aws: str) -> None:
    _write(aws, partitions=8, versions=3)
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    failed_once: set[str] = set()

    def deliver(batch: list[dict[str, Any]]) -> dict[str, Any]:
        for record in batch:
            if _partition(record) == "P#3" and _version(record) == 1 and "P#3" not in failed_once:
                failed_once.add("P#3")
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            with lock:
                seen[_partition(record)].append(_version(record))
        return {"batchItemFailures": []}

    pump = StreamPump(aws, deliver, parallelization=4, retry_delay_seconds=0.0)
    try:
        pump.run_once()
        assert seen["P#3"] == [0]  # its lane stopped at the failure (so may partitions sharing it)...
        done = [p for p in range(8) if seen[f"P#{p}"] == [0, 1, 2]]
        assert len(done) >= 4  # ...the other lanes did not (8 partitions over 4 lanes)
        assert all(seen[f"P#{p}"] in ([0], [0, 1], [0, 1, 2]) for p in range(8))
        pump.run_once()
    finally:
        pump.close()

    assert seen["P#3"] == [0, 1, 2]


def test_on_their_own_threads_a_lane_stuck_in_a_slow_delivery_does_not_hold_back_the_others(aws: str) -> None:
    # GIVEN a stack whose delivery of partition P#0 hangs until released
    _write(aws, partitions=12, versions=1)
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    stuck, release = threading.Event(), threading.Event()

    def deliver(batch: list[dict[str, Any]]) -> dict[str, Any]:
        if any(_partition(record) == "P#0" for record in batch):
            stuck.set()
            assert release.wait(timeout=30)
        with lock:
            for record in batch:
                seen[_partition(record)].append(_version(record))
        return {"batchItemFailures": []}

    pump = StreamPump(aws, deliver, batch_size=1, parallelization=4)
    runner = PumpRunner()
    for each in pump.pumps(interval_seconds=0.01):  # the reader and each lane, as the local stack runs them
        runner.register(each)
    runner.start()
    try:
        assert stuck.wait(timeout=20)
        stuck_lane = pump._lane_of_key({"S": "P#0"})
        others = [f"P#{p}" for p in range(1, 12) if pump._lane_of_key({"S": f"P#{p}"}) is not stuck_lane]

        # WHEN the other partitions change while P#0's delivery still hangs
        dynamodb = client("dynamodb")
        for partition in others:
            dynamodb.put_item(TableName=aws, Item={"pk": {"S": partition}, "sk": {"S": "x"}, "v": {"N": "1"}})

        # THEN those changes are delivered without waiting for the stuck lane
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(seen[p] == [0, 1] for p in others):
            time.sleep(0.02)
        assert all(seen[p] == [0, 1] for p in others), dict(seen)
        assert seen["P#0"] == []

        # AND once released, the stuck lane catches up
        release.set()
        while time.monotonic() < deadline and seen["P#0"] != [0]:
            time.sleep(0.02)
        assert seen["P#0"] == [0]
    finally:
        release.set()
        runner.stop()
