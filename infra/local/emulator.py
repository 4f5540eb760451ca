"""The embedded AWS emulator: moto's server on the loopback interface."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

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
