"""Where the local stack makes asynchronous AWS behaviour happen.

On AWS, the table's stream, SQS queues and EventBridge Scheduler call our handlers; on
the emulator nothing calls them (moto's schedules never fire, nothing polls streams or
queues). A `Pump` does one round of that delivery into the same handler Lambda would
call. Each pump runs on its own thread, so a slow one (schedules) never delays another
(the stream, which sends the confirmation mail): a round that delivered something is
followed at once by the next, and a pump waits its interval only when it found nothing.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from chalicelib.gateways.aws import client
from chalicelib.gateways.scheduler import parse_at_expression
from chalicelib.observability import logger


@dataclass
class Pump:
    name: str
    run_once: Callable[[], int]  # delivers what is due; returns how many events it delivered
    interval_seconds: float = 0.25  # the wait after a round that found nothing


@dataclass
class PumpRunner:
    pumps: list[Pump] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def register(self, pump: Pump) -> None:
        self.pumps.append(pump)

    def start(self) -> None:
        for pump in self.pumps:
            thread = threading.Thread(target=self._loop, args=(pump,), name=f"pump-{pump.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, pump: Pump) -> None:
        while not self._stop.is_set():
            try:
                delivered = pump.run_once()
            except Exception:
                logger.exception("local pump failed", extra={"pump": pump.name})
                delivered = 0
            if not delivered:
                self._stop.wait(pump.interval_seconds)

    def stop(self, timeout: float = 3.0) -> None:
        """Ask every pump to stop after its current round and wait for them (at most `timeout` in all)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


MAX_ATTEMPTS = 5
READ_LIMIT = 1000  # records per GetRecords call (the Streams API's maximum)


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams API record in the shape Lambda hands to a stream handler."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventSource": "aws:dynamodb",
        "eventSourceARN": stream_arn,
        "dynamodb": data,
    }


@dataclass
class _Lane:
    """The records of some partition keys, delivered in order; a failure holds back only this lane."""

    pending: list[dict[str, Any]] = field(default_factory=list)
    retry_not_before: float = 0.0
    attempts: dict[str, int] = field(default_factory=dict)


@dataclass
class StreamPump:
    """Reads the table's stream like Lambda's event source mapping: in order per partition key,
    retrying from the first failed record, and after MAX_ATTEMPTS sending it to the on-failure
    queue.

    `parallelization` is the mapping's ParallelizationFactor: records are spread over that
    many lanes by partition key and the lanes are delivered concurrently, so the records of
    one item (one appointment) stay in order while many appointments are handled at once.
    The local stack uses 4: with one lane its mail fell behind a client booking one slot
    after another, because each booking's effects cost four times its own requests."""

    table_name: str
    deliver: Callable[[list[dict[str, Any]]], dict[str, Any]]
    dead_letter_queue_url: str | None = None
    batch_size: int = 25
    retry_delay_seconds: float = 0.0  # before a failed record is tried again (the stack waits 1 s)
    parallelization: int = 1
    _iterators: dict[str, str] = field(default_factory=dict)
    _lanes: list[_Lane] = field(default_factory=list)
    _hash_key: str = ""
    _stream_arn: str = ""
    _pool: ThreadPoolExecutor | None = None

    def _open(self) -> None:
        streams = client("dynamodbstreams")
        table = client("dynamodb").describe_table(TableName=self.table_name)["Table"]
        self._stream_arn = table["LatestStreamArn"]
        self._hash_key = next(k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH")
        self._lanes = [_Lane() for _ in range(max(1, self.parallelization))]
        for shard in streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = streams.get_shard_iterator(
                    StreamArn=self._stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def run_once(self) -> int:
        """Read what is new since the last read (never again what was read) and deliver it in batches."""
        self.read()
        now = time.monotonic()
        ready = [lane for lane in self._lanes if lane.pending and now >= lane.retry_not_before]
        if len(ready) <= 1:
            return sum(self._drain(lane) for lane in ready)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=len(self._lanes), thread_name_prefix="stream-lane")
        return sum(self._pool.map(self._drain, ready))

    def pumps(self, interval_seconds: float) -> list[Pump]:
        """The reader and one pump per lane, each for its own thread, as Lambda runs a mapping's
        batches: a lane delivers as soon as it has records, never waiting for a slower lane's
        round to end (with one round for all lanes, a booking's mail waited for the slowest)."""
        if not self._stream_arn:
            self._open()
        lanes = [
            Pump(f"stream-lane-{index}", partial(self.drain_lane, index), interval_seconds)
            for index in range(len(self._lanes))
        ]
        return [Pump("stream-read", self.read, interval_seconds), *lanes]

    def read(self) -> int:
        """Hand what is new since the last read to the lanes; nothing while they hold READ_LIMIT."""
        if not self._stream_arn:
            self._open()
        if sum(len(lane.pending) for lane in self._lanes) >= READ_LIMIT:
            return 0
        return self._read()

    def drain_lane(self, index: int) -> int:
        """Deliver one lane's records unless it is waiting out a retry delay."""
        lane = self._lanes[index]
        if not lane.pending or time.monotonic() < lane.retry_not_before:
            return 0
        return self._drain(lane)

    def close(self) -> None:
        """Let the lane threads go once their current batch is delivered."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def _read(self) -> int:
        """Append only: a lane's thread removes from the front of its list, the reader adds at the end."""
        streams = client("dynamodbstreams")
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            answer = streams.get_records(ShardIterator=iterator, Limit=READ_LIMIT)
            for record in answer["Records"]:
                self._lane_of(record).pending.append(_lambda_record(record, self._stream_arn))
            read += len(answer["Records"])
            if answer.get("NextShardIterator"):
                self._iterators[shard_id] = answer["NextShardIterator"]
        return read

    def _lane_of(self, record: dict[str, Any]) -> _Lane:
        return self._lane_of_key(record["dynamodb"]["Keys"].get(self._hash_key))

    def _lane_of_key(self, partition_key: Any) -> _Lane:
        partition = json.dumps(partition_key, sort_keys=True)
        return self._lanes[zlib.crc32(partition.encode()) % len(self._lanes)]

    def _drain(self, lane: _Lane) -> int:
        """Deliver the lane's records batch by batch until it is empty or a record fails."""
        delivered = 0
        while lane.pending:
            batch = lane.pending[: self.batch_size]
            failures = self.deliver(batch).get("batchItemFailures", [])
            if not failures:
                del lane.pending[: len(batch)]
                delivered += len(batch)
                for record in batch:
                    lane.attempts.pop(record["dynamodb"]["SequenceNumber"], None)
                continue
            failed = failures[0]["itemIdentifier"]
            index = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == failed)
            del lane.pending[:index]
            delivered += index
            lane.attempts[failed] = lane.attempts.get(failed, 0) + 1
            if lane.attempts[failed] >= MAX_ATTEMPTS:
                self._dead_letter(lane.pending.pop(0))
                del lane.attempts[failed]
                continue
            lane.retry_not_before = time.monotonic() + self.retry_delay_seconds
            break  # retry from the failed record next round, as Lambda does
        return delivered

    def _dead_letter(self, record: dict[str, Any]) -> None:
        logger.error(
            "stream record sent to the dead-letter queue", extra={"sequence": record["dynamodb"]["SequenceNumber"]}
        )
        if self.dead_letter_queue_url:
            client("sqs").send_message(
                QueueUrl=self.dead_letter_queue_url, MessageBody=json.dumps({"record": record}, default=str)
            )


@dataclass
class SchedulePump:
    """Fires due one-time schedules of a group by calling their target with the schedule's
    input, then deletes them (ActionAfterCompletion: DELETE). moto's schedules never fire.

    Listing the group costs O(schedules), and a day of bookings leaves thousands of
    reminders waiting: the stack lists at most every `list_every_seconds` (15 s) and reads
    each new schedule once. A known schedule that falls due is read again before it fires,
    so one deleted or changed since the listing is never fired from a stale copy. A schedule
    therefore fires up to that interval after its time if it was created less than that
    before it (EventBridge Scheduler itself promises about a minute)."""

    group: str
    target: Callable[[dict[str, Any]], Any]
    clock: Callable[[], datetime]
    dead_letter_queue_url: str | None = None
    list_every_seconds: float = 0.0  # 0: list on every round (tests)
    _attempts: dict[str, int] = field(default_factory=dict)
    # name -> (version, due, input), from the last listing and the reads since
    _known: dict[str, tuple[str, datetime, str]] = field(default_factory=dict)
    _listed_at: float = float("-inf")

    def _list(self) -> None:
        scheduler = client("scheduler")
        listed: dict[str, str] = {}
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=self.group):
            for summary in page.get("Schedules", []):
                listed[summary["Name"]] = _version(summary)
        for name in [n for n in self._known if listed.get(n) != self._known[n][0]]:
            del self._known[name]
        for name in listed:
            if name not in self._known:
                self._read(name)
        self._listed_at = time.monotonic()

    def _read(self, name: str) -> bool:
        """Remember the schedule as it is now; False when it is gone."""
        try:
            schedule = client("scheduler").get_schedule(Name=name, GroupName=self.group)
        except client("scheduler").exceptions.ResourceNotFoundException:
            self._known.pop(name, None)
            return False
        due = parse_at_expression(schedule["ScheduleExpression"])
        self._known[name] = (_version(schedule), due, schedule["Target"]["Input"])
        return True

    def _due(self) -> list[tuple[str, str]]:
        """(name, input) of every schedule of the group that is due now."""
        fresh = time.monotonic() - self._listed_at >= self.list_every_seconds
        if fresh:
            self._list()
        now = self.clock()
        due = [name for name, known in self._known.items() if known[1] <= now]
        if not fresh:  # read since the listing? confirm each one as it is now
            due = [name for name in due if self._read(name) and self._known[name][1] <= now]
        return [(name, self._known[name][2]) for name in due]

    def run_once(self) -> int:
        scheduler = client("scheduler")
        fired = 0
        for name, given in self._due():
            payload = json.loads(given)
            try:
                self.target(payload)
            except Exception:
                self._attempts[name] = self._attempts.get(name, 0) + 1
                logger.exception("scheduled task failed", extra={"schedule": name})
                if self._attempts[name] < MAX_ATTEMPTS:
                    continue
                if self.dead_letter_queue_url:
                    client("sqs").send_message(QueueUrl=self.dead_letter_queue_url, MessageBody=json.dumps(payload))
            scheduler.delete_schedule(Name=name, GroupName=self.group)
            self._attempts.pop(name, None)
            self._known.pop(name, None)
            fired += 1
        return fired


def _version(schedule: dict[str, Any]) -> str:
    return str(schedule.get("LastModificationDate") or schedule.get("CreationDate"))


@dataclass
class QueuePump:
    """Polls an SQS queue like Lambda's event source mapping with ReportBatchItemFailures:
    successes are deleted, failures become visible again after a growing delay, and the
    queue's redrive policy moves a message that keeps failing to its dead-letter queue."""

    queue_url: str
    handler: Callable[[dict[str, Any]], dict[str, Any]]
    batch_size: int = 10
    # Seconds a failed message stays invisible, by how often it was received (tests pass 0).
    retry_delay_seconds: Callable[[int], int] = lambda attempts: min(2**attempts, 60)

    def run_once(self) -> int:
        sqs = client("sqs")
        answer = sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=0, AttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
        failed = {f["itemIdentifier"] for f in self.handler({"Records": records}).get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay_seconds(attempts),
                )
            else:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages) - len(failed)
