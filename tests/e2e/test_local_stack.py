"""`make run`'s program end to end: the local stack starts, seeds, serves and stops on SIGINT."""

from __future__ import annotations

import hashlib
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

import pytest
import requests

from tests.conftest import PROJECT_DIR


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    local_dir = tmp_path_factory.mktemp("local")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
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
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ready" in line:
            break
    else:
        process.kill()
    if not any("ready" in line for line in lines):
        process.kill()
        pytest.fail("local stack never printed ready:\n" + "".join(lines[-40:]))
    # Keep reading: a pipe nobody drains fills after a few hundred log lines and blocks the stack.
    threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True).start()
    demo = json.loads((Path(local_dir) / "demo.json").read_text())
    yield {"process": process, "demo": demo, "port": port, "local_dir": Path(local_dir)}
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_demo_file_has_the_documented_fields(stack: dict) -> None:
    demo = stack["demo"]
    assert set(demo) >= {"apiUrl", "platformApiKey", "tenant", "publishableKey", "secretKey"}
    assert demo["platformApiKey"] == "e2e-platform-key-1234567890"
    assert demo["apiUrl"] == f"http://127.0.0.1:{stack['port']}"


def test_public_services_lists_the_demo_service(stack: dict) -> None:
    demo = stack["demo"]
    response = requests.get(
        f"{demo['apiUrl']}/v1/public/services", headers={"X-Tenant-Key": demo["publishableKey"]}, timeout=10
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["name"] for item in items] == ["Consultation"]
    assert items[0]["providerIds"]


def test_admin_key_reads_the_demo_tenant_and_no_key_is_401(stack: dict) -> None:
    demo = stack["demo"]
    ok = requests.get(
        f"{demo['apiUrl']}/v1/admin/tenant", headers={"Authorization": f"Bearer {demo['secretKey']}"}, timeout=10
    )
    refused = requests.get(f"{demo['apiUrl']}/v1/admin/tenant", timeout=10)
    assert ok.status_code == 200 and ok.json()["slug"] == "demo"
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def _first_open_slot(demo: dict) -> str:
    """The earliest bookable start in the coming two weeks (the stack runs on the real clock)."""
    first = date.today() + timedelta(days=1)
    response = requests.get(
        f"{demo['apiUrl']}/v1/public/services/{demo['serviceId']}/availability",
        params={"start": str(first), "end": str(first + timedelta(days=14)), "timezone": "America/New_York"},
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    assert slots
    return str(slots[0]["start"])


def test_a_booking_over_http_produces_a_confirmation_mail_within_seconds(stack: dict) -> None:
    # GIVEN the demo tenant, reached over HTTP like a browser would
    demo = stack["demo"]
    email = f"e2e-{int(time.time())}@example.test"

    # WHEN a client books its first open slot
    booking = requests.post(
        f"{demo['apiUrl']}/v1/public/appointments",
        json={
            "serviceId": demo["serviceId"],
            "start": _first_open_slot(demo),
            "client": {"name": "Erin", "email": email, "timezone": "America/New_York"},
            "intake": {},
        },
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert booking.status_code == 201, booking.text

    # THEN within 10 seconds the stream pump has mailed her the confirmation, with its invitation
    deadline = time.monotonic() + 10
    mine: list[dict] = []
    while time.monotonic() < deadline and not mine:
        listed = requests.get(f"{demo['apiUrl']}/_local/mail", timeout=10)
        assert listed.status_code == 200, listed.text
        mine = [m for m in listed.json()["items"] if email in m["to"] and m["subject"].startswith("Confirmed:")]
        if not mine:
            time.sleep(0.2)
    assert len(mine) == 1, "no confirmation mail within 10 s"
    assert mine[0]["attachments"] == ["invite.ics"]
    eml = stack["local_dir"] / "outbox" / mine[0]["file"]
    assert eml.is_file()
    assert f"To: Erin <{email}>" in eml.read_text()


def test_an_invoice_over_http_has_its_pdf_in_the_bucket_and_is_mailed(stack: dict) -> None:
    # GIVEN a confirmed booking of the demo tenant (whose seller details the seed filled in)
    demo = stack["demo"]
    admin = {"Authorization": f"Bearer {demo['secretKey']}"}
    email = f"invoice-{int(time.time())}@example.test"
    booking = requests.post(
        f"{demo['apiUrl']}/v1/public/appointments",
        json={
            "serviceId": demo["serviceId"],
            "start": _first_open_slot(demo),
            "client": {"name": "Олег", "email": email, "timezone": "America/New_York"},
            "intake": {},
        },
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert booking.status_code == 201, booking.text
    appointment_id = booking.json()["appointment"]["id"]

    # WHEN the admin issues its invoice, reads it and sends it
    issued = requests.post(
        f"{demo['apiUrl']}/v1/admin/appointments/{appointment_id}/invoice", json={}, headers=admin, timeout=30
    )
    assert issued.status_code == 201, issued.text
    invoice = issued.json()
    read = requests.get(f"{demo['apiUrl']}/v1/admin/invoices/{invoice['id']}", headers=admin, timeout=10)
    pdf = requests.get(read.json()["pdfUrl"], timeout=10)  # presigned: no credentials
    sent = requests.post(f"{demo['apiUrl']}/v1/admin/invoices/{invoice['id']}/send", json={}, headers=admin, timeout=10)

    # THEN the bucket serves the PDF whose digest the invoice recorded, and the mail carries it
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.content).hexdigest() == invoice["pdfSha256"]
    assert sent.status_code == 202, sent.text
    listed = requests.get(f"{demo['apiUrl']}/_local/mail", timeout=10).json()["items"]
    mine = [m for m in listed if email in m["to"] and invoice["number"] in m["subject"]]
    assert len(mine) == 1, listed
    assert mine[0]["attachments"] == [f"{invoice['number']}.pdf"]


def test_sigint_stops_the_stack_cleanly(stack: dict) -> None:
    process: subprocess.Popen[str] = stack["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
