"""Fixtures shared by the integration tests (a module may define its own `shop` instead)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from tests.api.booking_support import NOW, Shop, freeze
from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR


@pytest.fixture
def shop(aws: str) -> Iterator[Shop]:
    """A tenant on the API at the frozen NOW, through Chalice's test client."""
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        freeze(NOW)
        api = Api(client)
        yield Shop(api, api.open_tenant("acme"))
