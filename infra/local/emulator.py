"""The embedded AWS emulator: moto's server on the loopback interface.

Tests run it in their own process (`start_emulator`). The local stack runs it as a child
process (`start_emulator_process`): moto's request handling then has a core of its own
instead of sharing one interpreter lock with the API and the pumps, which doubled what
the stack could serve on a 2-core machine. The child ignores Ctrl-C (the terminal sends
it to the whole process group; the stack stops it last, after its pumps) and exits when
its parent closes its stdin, or dies.

moto's own server is werkzeug's development server, which closes the connection after every
response: each AWS call paid a TCP connect, a name lookup and a new server thread, about a
sixth of the CPU a booking cost on both sides. The emulator serves moto's WSGI app with
waitress instead: HTTP/1.1 keep-alive (botocore's pooled connections are reused), a fixed
pool of SERVER_THREADS request threads, and a backlog of 1024.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress.server import create_server
from waitress.wasyncore import close_all

from infra.local import dynamodb_seam

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"


SERVER_THREADS = 8  # requests handled at once; idle keep-alive connections hold none


@dataclass
class Emulator:
    server: Any  # waitress's server: its type is chosen at run time (one socket or several)
    connections: dict[int, Any]  # the server's socket map: listener and keep-alive channels
    thread: threading.Thread
    url: str

    def reset(self) -> None:
        """Forget every resource (tests start each case from an empty account)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Close the listener and every open connection (the loop ends when none is left)."""
        self.server.task_dispatcher.shutdown(timeout=1)
        close_all(self.connections)
        self.thread.join(timeout=2)


def start_emulator(port: int = 0) -> Emulator:
    """Start moto's server on 127.0.0.1 (never 0.0.0.0) and point boto3 at it.

    The DynamoDB it serves is patched by `dynamodb_seam` (isolation, O(k) transactions,
    partition-sized queries, released stream records): see that module for why.
    """
    dynamodb_seam.install()
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "queue depth" warnings under load are noise
    connections: dict[int, Any] = {}
    server = create_server(
        DomainDispatcherApplication(create_backend_app),
        map=connections,
        host="127.0.0.1",
        port=port,
        threads=SERVER_THREADS,
        backlog=1024,
        channel_timeout=60,
        clear_untrusted_proxy_headers=True,
        ident="moto",
    )
    thread = threading.Thread(target=server.run, name="emulator", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    use_emulator_environment(url)
    return Emulator(server, connections, thread, url)


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[bytes]
    url: str

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self, timeout: float = 2.0) -> None:
        """Close its stdin (it exits at once), then SIGTERM, then SIGKILL: bounded either way."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        for escalate in (lambda: None, self.process.terminate, self.process.kill):
            escalate()
            try:
                self.process.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue


def start_emulator_process(port: int = 0) -> EmulatorProcess:
    """The emulator in a child process; its URL is the first line it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.emulator", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the emulator did not start: {line or process.wait()}")
    use_emulator_environment(line)
    return EmulatorProcess(process, line)


def _serve(port: int) -> None:
    """The child's main: serve until the parent closes stdin (or dies, which closes it too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    emulator = start_emulator(port)
    print(emulator.url, flush=True)
    sys.stdin.buffer.read()
    # Everything lives in memory and the parent has stopped calling: nothing to flush or
    # wait for, and a keep-alive connection must not hold the exit up.
    os._exit(0)


def use_emulator_environment(url: str) -> None:
    """Credentials and endpoint for every boto3/PynamoDB client created from now on."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_REGION": LOCAL_REGION,
            # Stream calls go to an account-id host that moto does not route otherwise.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto's server with the local stack's DynamoDB seam")
    parser.add_argument("--port", type=int, default=0)
    _serve(parser.parse_args().port)
