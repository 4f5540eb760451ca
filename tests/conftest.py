"""Shared fixtures: the AWS emulator (moto's server over real boto3 calls) and a clean table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.services import registry
from chalicelib.store.table import reset_binding

PROJECT_DIR = Path(__file__).resolve().parents[1]
PLATFORM_KEY = "test-platform-key-" + "x" * 24

# Nothing in the unit layer may reach AWS by accident.
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ["PLATFORM_API_KEY"] = PLATFORM_KEY


@pytest.fixture(scope="session")
def emulator() -> Iterator[object]:
    from infra.local.emulator import start_emulator

    started = start_emulator()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def stripe_fake() -> Iterator[object]:
    """The local fake Stripe, reached by the real SDK (STRIPE_API_BASE), shared by the session."""
    from infra.local.fake_stripe import FakeStripe

    with FakeStripe() as fake:
        os.environ.update(
            {
                "STRIPE_SECRET_KEY": fake.api_key,
                "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
                "STRIPE_API_BASE": fake.url,
            }
        )
        yield fake


@pytest.fixture
def aws(emulator: object, stripe_fake: object) -> Iterator[str]:
    """A freshly provisioned stack (from infra/template.json) for one test; returns the table name."""
    from infra.local.emulator import Emulator
    from infra.local.provision import provision

    assert isinstance(emulator, Emulator)
    emulator.reset()
    stripe_fake.reset()  # type: ignore[attr-defined]
    stripe_fake.set_clock(lambda: registry.clock().timestamp())  # type: ignore[attr-defined]
    physical = provision({"Stage": "dev"})
    os.environ["TABLE_NAME"] = physical["AppTable"]
    reset_binding()
    registry.reset()
    yield physical["AppTable"]
    reset_binding()
    registry.reset()


@pytest.fixture(autouse=True)
def answers_keep_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTP answer a test receives from the Chalice test client is checked against
    `/v1/openapi.json` (declared status, declared schema, no undeclared field): tests/contract.py."""
    from chalice.test import TestHTTPClient

    from tests.contract import checked_request

    monkeypatch.setattr(TestHTTPClient, "request", checked_request(TestHTTPClient.request))
