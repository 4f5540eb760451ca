"""Issue 8 on `make run`'s program: concurrency, no false conflicts, prompt mail, clean stop.

Each test drives the stack over real sockets, as a user's load test would. Figures are
not asserted here beyond the issue's hard limits (mail within 3 s, stop within 5 s):
`make soak` prints the rest.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.races import race
from tests.stack_process import (
    LOOPBACK,
    FreeShop,
    MailWatch,
    StackProcess,
    session_pids,
    start_stack,
    stop_stack,
    wait_ready,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    started = start_stack(tmp_path_factory.mktemp("load"))
    wait_ready(started, timeout=90)
    yield started
    stop_stack(started, timeout=10)


@pytest.fixture(scope="module")
def shop(stack: StackProcess) -> FreeShop:
    return FreeShop.open(stack.demo())


def _statuses(outcomes: list[object]) -> Counter[object]:
    return Counter(o.status_code if isinstance(o, requests.Response) else type(o).__name__ for o in outcomes)


def test_64_concurrent_requests_for_one_slot_get_one_201_and_63_409(shop: FreeShop) -> None:
    start = shop.start(0, first_day=3)

    outcomes = race(64, lambda i: shop.book(start, email=f"racer{i}@example.test"))

    assert _statuses(outcomes) == Counter({201: 1, 409: 63})
    refused = [o for o in outcomes if isinstance(o, requests.Response) and o.status_code == 409]
    assert {o.json()["error"]["code"] for o in refused} == {"slot_unavailable"}


def test_128_connections_held_open_at_once_are_all_answered(stack: StackProcess) -> None:
    sockets = [socket.create_connection((LOOPBACK, stack.port), timeout=30) for _ in range(128)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /v1/public/services HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        answers = [_read_all(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()

    assert all(a.startswith(b"HTTP/1.1 401") for a in answers), {a[:20] for a in answers}


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_distinct_and_overlapping_bookings_under_16_threads(shop: FreeShop) -> None:
    # GIVEN 8 free half-hours far apart, and 8 pairs that overlap: 60 minutes at :00 against 30 at :30
    distinct = [shop.start(4 * i, first_day=5) for i in range(8)]
    pairs = [(shop.start(4 * i, first_day=6), shop.start(4 * i + 1, first_day=6)) for i in range(8)]
    attempts = [(start, False) for start in distinct]
    attempts += [(long_start, True) for long_start, _ in pairs]
    attempts += [(short_start, False) for _, short_start in pairs]

    # WHEN all 24 run on 16 threads at a time, released together
    outcomes: list[object] = []
    for wave in (attempts[:16], attempts[16:]):
        outcomes += race(len(wave), lambda i, wave=wave: shop.book(wave[i][0], long=wave[i][1], email=f"t{i}@x.test"))

    # THEN every distinct time is booked, and every overlapping pair has exactly one winner
    codes = [o.status_code if isinstance(o, requests.Response) else repr(o) for o in outcomes]
    assert codes[:8] == [201] * 8
    for pair in range(8):
        won = sorted([codes[8 + pair], codes[16 + pair]])
        assert won == [201, 409], (pair, won)


def test_while_a_client_books_one_slot_after_another_each_confirmation_is_in_the_outbox_within_3_seconds(
    stack: StackProcess, shop: FreeShop
) -> None:
    # GIVEN a stack that has delivered what the earlier tests' bursts left behind, in every lane
    watch = MailWatch(stack.outbox)
    probe = f"probe-{time.time_ns()}@example.test"
    assert shop.book(shop.start(0, first_day=9), email=probe).status_code == 201
    assert watch.delay(probe, time.time(), deadline=120) is not None
    assert watch.settle(quiet_seconds=3, deadline=120)

    # WHEN a client books 40 slots one after another (the soak's traffic), every 8th timed
    sampled: list[tuple[str, float]] = []
    with requests.Session() as session:
        for i in range(40):
            email = f"steady-{i}-{time.time_ns()}@example.test"
            booked = shop.book(shop.start(i, first_day=10), email=email, session=session)
            assert booked.status_code == 201, booked.text
            if i % 8 == 0:
                sampled.append((email, time.time()))
    delays = [watch.delay(email, answered) for email, answered in sampled]

    # THEN each sampled confirmation was written within 3 s of its 201
    assert all(d is not None and d < 3 for d in delays), delays


def test_an_unknown_path_is_404_in_the_error_shape(stack: StackProcess) -> None:
    response = requests.get(f"http://{LOOPBACK}:{stack.port}/v1/no-such-thing", timeout=30)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such route.", "details": {}}}


def test_a_method_no_route_serves_is_405_in_the_error_shape_and_no_token_reaches_the_log(
    stack: StackProcess,
) -> None:
    token = f"tok-{time.time_ns()}"
    base = f"http://{LOOPBACK}:{stack.port}"

    traced = requests.request("TRACE", f"{base}/v1/public/services?token={token}", timeout=30)
    fetched = requests.get(f"{base}/v1/public/services?token={token}", timeout=30)
    with socket.create_connection((LOOPBACK, stack.port), timeout=30) as raw:
        raw.sendall(f"GET /manage/x?token={token} HTTP/1.1 extra\r\n\r\n".encode())
        garbled = b"".join(iter(lambda: raw.recv(4096), b""))  # the server closes when done

    assert traced.status_code == 405
    assert traced.json()["error"]["code"] == "method_not_allowed"
    assert fetched.status_code == 401
    assert garbled.startswith(b"HTTP/1.") and b'"error"' in garbled
    time.sleep(0.5)  # the log line is written after the answer
    assert token not in stack.log_text()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_loaded_stack_within_5_seconds_and_leaves_nothing(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # GIVEN a stack whose last run left mail behind, serving 16 clients that keep booking
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "old.eml").write_text("From: a previous run\r\n\r\n")
    stack = start_stack(tmp_path)
    wait_ready(stack, timeout=90)
    assert requests.get(f"http://{LOOPBACK}:{stack.port}/_local/mail", timeout=30).json()["items"] == []
    shop = FreeShop.open(stack.demo())
    ports = stack.ports()
    loading = threading.Event()

    def keep_booking(worker: int) -> None:
        for i in range(10_000):
            loading.set()
            try:
                shop.book(shop.start(worker * 1000 + i, first_day=1), email=f"w{worker}@x.test", timeout=10)
            except requests.RequestException:
                return

    workers = [threading.Thread(target=keep_booking, args=(w,), daemon=True) for w in range(16)]
    for worker in workers:
        worker.start()
    loading.wait(10)
    time.sleep(2)

    # WHEN the signal arrives mid-load
    began = time.monotonic()
    stack.process.send_signal(stop_signal)
    exit_code = stack.process.wait(timeout=30)
    took = time.monotonic() - began

    # THEN everything it started is gone within 5 s: no process, no listening port
    report = stop_stack(stack, timeout=1)
    assert took < 5, f"stopped after {took:.1f} s"
    assert exit_code == 0
    assert session_pids(stack.pid) == [] and report.leftover_pids == []
    assert report.open_ports == [], ports
