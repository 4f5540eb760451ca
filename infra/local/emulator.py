"""The embedded AWS emulator: moto's server on the loopback interface.

Tests run it in their own process (`start_emulator`). The local stack runs it as a child
process (`start_emulator_process`): moto's request handling then has a core of its own
instead of sharing one interpreter lock with the API and the pumps, which doubled what
the stack could serve on a 2-core machine. The child ignores Ctrl-C (the terminal sends
it to the whole process group; the stack stops it last, after its pumps) and exits when
its parent closes its stdin, or dies.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
from moto.server import ThreadedMotoServer

from infra.local import dynamodb_seam

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"


@dataclass
class Emulator:
    server: ThreadedMotoServer
    url: str

    def reset(self) -> None:
        """Forget every resource (tests start each case from an empty account)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.server.stop()


def start_emulator(port: int = 0) -> Emulator:
    """Start moto's server on 127.0.0.1 (never 0.0.0.0) and point boto3 at it.

    The DynamoDB it serves is patched by `dynamodb_seam` (isolation, O(k) transactions,
    partition-sized queries, released stream records): see that module for why.
    """
    dynamodb_seam.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per emulated AWS call is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    url = f"http://{host}:{bound_port}"
    use_emulator_environment(url)
    return Emulator(server, url)


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
    emulator.stop()


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
