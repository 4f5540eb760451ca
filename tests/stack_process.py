"""The local stack as a child process: started as a user would (`python -m infra.local.stack`), measured from /proc, stopped.

Shared by the end-to-end tests and `make soak`. The stack runs in its own session, so a
Ctrl-C at the terminal reaches only the caller, which then stops the stack with SIGINT
and times that stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import requests

PROJECT_DIR = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
_LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
# Variables that would point the stack at real AWS or a real Stripe, or pin its inner ports.
_DROPPED_PREFIXES = ("AWS_", "STRIPE_")
_DROPPED_NAMES = ("LOCAL_AWS", "MOTO_PORT", "PORT", "LOCAL_DIR")


class StackError(Exception):
    """The stack did not start, or died: the soak run cannot go on."""


@dataclass
class StackProcess:
    process: subprocess.Popen[bytes]
    local_dir: Path
    port: int
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.local_dir / "stack.log"

    @property
    def outbox(self) -> Path:
        return self.local_dir / "outbox"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def ports(self) -> list[int]:
        """The API's port and every loopback port the stack announced (emulator, fake Stripe)."""
        head = self.log_text().split("\nready", 1)[0]
        return sorted({self.port, *(int(p) for p in _LOCAL_URL.findall(head))})

    def demo(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.local_dir / "demo.json").read_text())
        return data


def free_port() -> int:
    """A port nobody listens on now (the stack binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def stack_environment(port: int, local_dir: Path) -> dict[str, str]:
    """The caller's environment, minus anything that would leave the machine, plus the soak's port and dir."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key not in _DROPPED_NAMES
    }
    env.update({"PORT": str(port), "LOCAL_DIR": str(local_dir), "LOCAL_AWS": "1", "PYTHONUNBUFFERED": "1"})
    return env


def start_stack(local_dir: Path) -> StackProcess:
    """`python -m infra.local.stack` with its output in LOCAL_DIR/stack.log (a file never fills like a pipe)."""
    port = free_port()
    log = (local_dir / "stack.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stack"],
        cwd=PROJECT_DIR,
        env=stack_environment(port, local_dir),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return StackProcess(process, local_dir, port, log)


def wait_ready(stack: StackProcess, timeout: float) -> float:
    """Seconds until the stack printed its `ready` line; raises StackError with the log's tail otherwise."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if any(line.startswith("ready") for line in stack.log_text().splitlines()):
            return time.monotonic() - began
        if not stack.alive():
            raise StackError(f"the stack exited with {stack.process.returncode} before ready:\n{stack.log_tail()}")
        time.sleep(0.1)
    raise StackError(f"no ready line within {timeout:.0f} s:\n{stack.log_tail()}")


# --- /proc ---------------------------------------------------------------------------------


def _stat_fields(pid: str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat[stat.rindex(")") + 2 :].split()


def session_pids(session: int) -> list[int]:
    """Live (non-zombie) processes of a session: the stack and everything it started, even if re-parented."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if len(fields) > 3 and fields[3] == str(session) and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


def resident_bytes(pids: list[int]) -> int:
    """The summed VmRSS of these processes (threads share their process's figure)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class MemorySampler:
    """Samples the stack's resident memory every second, so a peak between blocks is not missed."""

    session: int
    interval: float = 1.0
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def current(self) -> int:
        rss = resident_bytes(session_pids(self.session))
        self.peak = max(self.peak, rss)
        return rss

    def start(self) -> None:
        threading.Thread(target=self._loop, name="soak-memory", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.current()


# --- stopping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopReport:
    seconds: float
    exit_code: int | None
    killed: bool
    leftover_pids: list[int]
    open_ports: list[int]


def port_open(port: int) -> bool:
    """Whether something still accepts connections on the loopback port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_exit(stack: StackProcess, timeout: float) -> bool:
    try:
        stack.process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def _leftovers(session: int, grace: float = 1.0) -> list[int]:
    """Processes of the stack's session still alive after a short grace for children already exiting."""
    deadline = time.monotonic() + grace
    left = session_pids(session)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = session_pids(session)
    return left


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def stop_stack(stack: StackProcess, timeout: float) -> StopReport:
    """SIGINT as Ctrl-C would send it, timed; SIGKILL after `timeout`; then what was left behind (and kill it)."""
    ports = stack.ports()
    began = time.monotonic()
    killed = False
    if stack.alive():
        stack.process.send_signal(signal.SIGINT)
        if not _wait_exit(stack, timeout):
            killed = True
            _kill(session_pids(stack.pid))
            _wait_exit(stack, 5)
    seconds = time.monotonic() - began
    leftover = _leftovers(stack.pid)
    open_ports = [port for port in ports if port_open(port)]
    _kill(leftover)
    stack.log.close()
    return StopReport(seconds, stack.process.returncode, killed, leftover, open_ports)


# --- a free shop on the demo tenant, over HTTP -------------------------------------------------

ALL_WEEK = [{"dayOfWeek": day, "start": "00:00", "end": "24:00", "serviceIds": None} for day in range(7)]


@dataclass
class FreeShop:
    """A free 30-minute service (and a 60-minute one) on the demo tenant, bookable around the clock.

    The demo service costs money; these need no Checkout, so a booking is one request.
    """

    api_url: str
    secret_key: str
    publishable_key: str
    zone: str
    short_id: str
    long_id: str
    provider_id: str

    @classmethod
    def open(cls, demo: dict[str, Any], name: str = "Free") -> FreeShop:
        api_url, secret_key = demo["apiUrl"], demo["secretKey"]
        admin = {"Authorization": f"Bearer {secret_key}"}

        def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = requests.post(f"{api_url}{path}", json=body, headers=admin, timeout=30)
            assert response.status_code == 201, response.text
            return dict(response.json())

        short = created("/v1/admin/services", {"name": f"{name} 30", "durationMinutes": 30, "priceCents": 0})
        long = created("/v1/admin/services", {"name": f"{name} 60", "durationMinutes": 60, "priceCents": 0})
        provider = created(
            "/v1/admin/providers",
            {"name": f"{name} Provider", "email": f"{name.lower()}@demo.test", "serviceIds": [short["id"], long["id"]]},
        )
        rules = requests.put(
            f"{api_url}/v1/admin/providers/{provider['id']}/availability",
            json={"rules": ALL_WEEK},
            headers=admin,
            timeout=30,
        )
        assert rules.status_code == 200, rules.text
        zone = str(demo["tenant"]["timezone"])
        return cls(api_url, secret_key, demo["publishableKey"], zone, short["id"], long["id"], provider["id"])

    def start(self, index: int, minutes: int = 30, first_day: int = 1) -> str:
        """The `index`-th start `minutes` apart from local midnight `first_day` days ahead, as UTC `Z`."""
        zone = ZoneInfo(self.zone)
        midnight = datetime.combine(datetime.now(zone).date() + timedelta(days=first_day), datetime.min.time(), zone)
        # Walk in UTC so a DST change never makes two indexes the same instant.
        instant = midnight.astimezone(UTC) + timedelta(minutes=minutes * index)
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")

    def book(
        self,
        start: str,
        *,
        long: bool = False,
        email: str = "soak@example.test",
        session: requests.Session | None = None,
        timeout: float = 60,
    ) -> requests.Response:
        body = {
            "serviceId": self.long_id if long else self.short_id,
            "providerId": self.provider_id,
            "start": start,
            "client": {"name": "Soak", "email": email, "timezone": self.zone},
            "intake": {},
        }
        post = (session or requests).post
        return post(
            f"{self.api_url}/v1/public/appointments",
            json=body,
            headers={"X-Tenant-Key": self.publishable_key},
            timeout=timeout,
        )

    def mail_to(self, email: str) -> list[dict[str, Any]]:
        listed = requests.get(f"{self.api_url}/_local/mail", timeout=30)
        assert listed.status_code == 200, listed.text
        return [m for m in listed.json()["items"] if email in m["to"]]


class MailWatch:
    """Finds the confirmation to each sampled address in the outbox (headers only).

    Its arrival is the file's modification time, compared with the wall-clock time of the
    201: the soak looks only every few bookings, and timing its own look would measure
    that interval, not the stack."""

    def __init__(self, outbox: Path) -> None:
        self._outbox = outbox
        self._seen: set[str] = set()
        self._arrived: dict[str, float] = {}
        self._latest = 0.0  # modification time of the newest message seen
        self._lock = threading.Lock()

    def _scan(self) -> None:
        for path in self._outbox.glob("*.eml"):
            if path.name in self._seen:
                continue
            self._seen.add(path.name)
            self._latest = max(self._latest, path.stat().st_mtime)
            head = path.read_bytes()[:4096].decode(errors="replace")
            for line in head.splitlines():
                if line.lower().startswith("to:"):
                    self._arrived.setdefault(line.split("<")[-1].rstrip(">").strip(), path.stat().st_mtime)
                    break

    def settle(self, quiet_seconds: float = 3.0, deadline: float = 120.0) -> bool:
        """Wait until no mail has been written for `quiet_seconds`: whatever earlier traffic
        left in any of the stream's lanes has been delivered. False if it never went quiet."""
        began = time.time()
        while time.time() - began < deadline:
            with self._lock:
                self._scan()
                latest = self._latest
            if time.time() - latest >= quiet_seconds:
                return True
            time.sleep(0.1)
        return False

    def delay(self, email: str, since: float, deadline: float = 30.0) -> float | None:
        """Seconds from `since` (wall clock) until mail to `email` was written, waiting up to the deadline."""
        while time.time() - since < deadline:
            with self._lock:
                self._scan()
                if email in self._arrived:
                    return max(0.0, self._arrived[email] - since)
            time.sleep(0.05)
        return None
