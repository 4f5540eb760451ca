"""`make soak`: a day of traffic on `make run`'s program, measured from outside like a user would.

Starts the stack as a child (its own directory and port), opens a free service on the demo
tenant, books N distinct slots one after another, then races 64 clients for one slot, then
stops the stack with SIGINT. Prints, per block of 500 bookings, the median and p95 booking
latency, the stack's resident memory (every process it started), and the delay until each
sampled booking's confirmation mail is in the outbox; then the race's status counts, the
stop time and whether each target of issue 8 was met. Figures are printed, never asserted:
the machine is shared.

    python -m tests.bench.soak [--bookings 2000] [--block 500] [--race 64]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.races import race
from tests.stack_process import (
    FreeShop,
    MailWatch,
    MemorySampler,
    StackProcess,
    resident_bytes,
    session_pids,
    start_stack,
    stop_stack,
    wait_ready,
)

MAIL_SAMPLE_EVERY = 10  # every 10th booking's mail delay is measured
MB = 1024 * 1024


@dataclass
class Block:
    latencies: list[float] = field(default_factory=list)
    mail_delays: list[float] = field(default_factory=list)
    refused: Counter[int] = field(default_factory=Counter)
    rss: int = 0
    rss_by_process: list[int] = field(default_factory=list)  # the stack first, then what it started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _book_sequentially(stack: StackProcess, shop: FreeShop, count: int, block_size: int) -> list[Block]:
    sampler = MemorySampler(stack.pid)
    sampler.start()
    watch = MailWatch(stack.outbox)
    blocks: list[Block] = []
    pending_mail: list[tuple[str, float, Block]] = []
    session = requests.Session()
    try:
        for i in range(count):
            if i % block_size == 0:
                blocks.append(Block())
            block = blocks[-1]
            email = f"soak{i}@example.test"
            began = time.monotonic()
            answer = shop.book(shop.start(i), email=email, session=session)
            answered = time.monotonic()
            answered_at = time.time()  # the outbox's file times are wall-clock
            block.latencies.append(answered - began)
            if answer.status_code != 201:
                block.refused[answer.status_code] += 1
            elif i % MAIL_SAMPLE_EVERY == 0:
                pending_mail.append((email, answered_at, block))
            if len(pending_mail) >= 5 or i == count - 1:
                for sampled, since, owner in pending_mail:
                    delay = watch.delay(sampled, since)
                    owner.mail_delays.append(delay if delay is not None else float("inf"))
                pending_mail.clear()
            if (i + 1) % block_size == 0 or i == count - 1:
                block.rss = sampler.current()
                block.rss_by_process = [resident_bytes([pid]) for pid in session_pids(stack.pid)]
                _print_block(len(blocks), i + 1, block)
    finally:
        sampler.stop()
        session.close()
    print(f"peak resident memory while booking: {sampler.peak / MB:.0f} MB")
    return blocks


def _print_block(number: int, done: int, block: Block) -> None:
    mail = block.mail_delays
    print(
        f"block {number} (to {done}): median {statistics.median(block.latencies) * 1000:.0f} ms,"
        f" p95 {_pct(block.latencies, 0.95) * 1000:.0f} ms, rss {block.rss / MB:.0f} MB"
        f" ({' + '.join(f'{r / MB:.0f}' for r in block.rss_by_process)}),"
        f" mail median {statistics.median(mail) if mail else float('nan'):.2f} s"
        f" max {max(mail) if mail else float('nan'):.2f} s, refused {dict(block.refused) or 0}",
        flush=True,
    )


def _race(shop: FreeShop, racers: int) -> Counter[object]:
    start = shop.start(0, first_day=2 * 30 + 1)  # past every soak booking (48 a day, 2000 is ~42 days)
    outcomes = race(racers, lambda i: shop.book(start, email=f"racer{i}@example.test"))
    return Counter(o.status_code if isinstance(o, requests.Response) else type(o).__name__ for o in outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--block", type=int, default=500)
    parser.add_argument("--race", type=int, default=64)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="soak-") as directory:
        stack = start_stack(Path(directory))
        try:
            print(f"stack ready in {wait_ready(stack, timeout=120):.1f} s (pid {stack.pid})", flush=True)
            shop = FreeShop.open(stack.demo())
            blocks = _book_sequentially(stack, shop, args.bookings, args.block)
            counts = _race(shop, args.race)
            print(f"race of {args.race} for one slot: {dict(counts)}")
        finally:
            report = stop_stack(stack, timeout=30)
        print(
            f"stop: {report.seconds:.1f} s after SIGINT, exit {report.exit_code}, killed {report.killed},"
            f" processes left {report.leftover_pids}, ports open {report.open_ports}"
        )

    first, last = blocks[0], blocks[-1]
    ratio = statistics.median(last.latencies) / statistics.median(first.latencies)
    worst_mail = max(d for b in blocks for d in b.mail_delays)
    peak = max(b.rss for b in blocks)
    targets = {
        f"last block median / first = {ratio:.2f} (<= 1.3)": ratio <= 1.3,
        f"resident memory {peak / MB:.0f} MB (< 1024)": peak < 1024 * MB,
        f"slowest sampled mail {worst_mail:.2f} s (< 3)": worst_mail < 3,
        f"race {dict(counts)} (1 x 201, {args.race - 1} x 409)": counts == Counter({201: 1, 409: args.race - 1}),
        f"every booking 201 ({sum(sum(b.refused.values()) for b in blocks)} refused)": not any(
            b.refused for b in blocks
        ),
        f"stopped in {report.seconds:.1f} s, nothing left (< 5)": report.seconds < 5
        and not report.killed
        and not report.leftover_pids
        and not report.open_ports,
    }
    for label, met in targets.items():
        print(f"{'met ' if met else 'MISSED'}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
