"""Google Calendar on `make run`'s program, over HTTP: the demo provider's calendar lives on the
fake Google (`googleApiBase` in .local/demo.json), edited by hand with the owner token."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import PROJECT_DIR

ZONE = "America/New_York"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    local_dir = tmp_path_factory.mktemp("local")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRIPE_", "GOOGLE_"))}
    env.update({"PORT": str(port), "LOCAL_DIR": str(local_dir), "PLATFORM_API_KEY": "e2e-platform-key-1234567890"})
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stack"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready"):
            break
    if not any(line.startswith("ready") for line in lines):
        process.kill()
        pytest.fail("local stack never printed ready:\n" + "".join(lines[-40:]))
    threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True).start()
    demo = json.loads((Path(local_dir) / "demo.json").read_text())
    yield {"demo": demo, "lines": lines}
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _slots(demo: dict[str, Any], first: date, days: int = 14) -> list[str]:
    response = requests.get(
        f"{demo['apiUrl']}/v1/public/services/{demo['serviceId']}/availability",
        params={"start": str(first), "end": str(first + timedelta(days=days)), "timezone": ZONE},
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


def _owner(demo: dict[str, Any]) -> tuple[str, dict[str, str]]:
    events = f"{demo['googleApiBase']}/calendar/v3/calendars/{demo['googleCalendarId']}/events"
    return events, {"Authorization": f"Bearer {demo['googleOwnerToken']}"}


def test_the_demo_file_names_the_fake_google(stack: dict[str, Any]) -> None:
    demo = stack["demo"]
    assert demo["googleApiBase"].startswith("http://127.0.0.1:")
    status = requests.get(
        f"{demo['apiUrl']}/v1/admin/providers/{demo['providerId']}/calendar",
        headers={"Authorization": f"Bearer {demo['secretKey']}"},
        timeout=10,
    ).json()
    assert status["status"] == "connected" and status["watchExpiresAt"]


def test_a_booking_appears_as_an_event_on_the_fake(stack: dict[str, Any]) -> None:
    demo = stack["demo"]
    start = _slots(demo, date.today() + timedelta(days=1))[0]
    booked = requests.post(
        f"{demo['apiUrl']}/v1/public/appointments",
        json={
            "serviceId": demo["serviceId"],
            "start": start,
            "client": {"name": "Gus", "email": f"gus-{int(time.time())}@example.test", "timezone": ZONE},
            "intake": {},
        },
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["appointment"]["id"]
    events, owner = _owner(demo)
    deadline = time.monotonic() + 10
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not mine:
        items = requests.get(events, headers=owner, timeout=10).json()["items"]
        mine = [
            e
            for e in items
            if (e.get("extendedProperties") or {}).get("private", {}).get("appointmentId") == appointment_id
        ]
        time.sleep(0.2)
    assert len(mine) == 1, "no event on the fake within 10 s"


def test_an_event_added_on_the_fake_removes_slots_within_5_seconds(stack: dict[str, Any]) -> None:
    demo = stack["demo"]
    day = date.today() + timedelta(days=3)
    while day.weekday() >= 5:  # the demo provider works Monday to Friday
        day += timedelta(days=1)
    before = _slots(demo, day, days=0)
    assert before, "the demo provider has no slots that day"
    busy_start, busy_end = before[0], before[-1]
    events, owner = _owner(demo)
    made = requests.post(
        events,
        json={"summary": "Dentist", "start": {"dateTime": busy_start}, "end": {"dateTime": busy_end}},
        headers=owner,
        timeout=10,
    )
    assert made.status_code == 200, made.text
    started = time.monotonic()
    after = before
    while time.monotonic() - started < 5:
        after = _slots(demo, day, days=0)
        if busy_start not in after:
            break
        time.sleep(0.2)
    assert busy_start not in after, "the slots were still offered 5 s after the event was added"
    assert after == [before[-1]]  # everything from the first start up to the event's end is gone
