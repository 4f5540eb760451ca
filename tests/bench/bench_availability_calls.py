"""DynamoDB calls per availability request, by window length and provider count.

Run with `python -m tests.bench.bench_availability_calls`. It starts the embedded emulator,
opens a tenant with N providers and some bookings, then counts the DynamoDB API calls one
`GET /v1/public/services/{id}/availability` makes (authentication included). The design
target is a count that does not change with the window or the number of providers.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta

from chalice.test import Client

from infra.local.emulator import start_emulator
from infra.local.provision import provision
from tests.conftest import PLATFORM_KEY, PROJECT_DIR

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def _call(client: Client, method: str, path: str, body: object = None, **headers: str) -> dict:
    response = getattr(client.http, method)(
        path,
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps(body).encode() if body is not None else b"",
    )
    assert response.status_code < 300, response.body
    return json.loads(response.body) if response.body else {}


def main() -> None:
    warnings.filterwarnings("ignore", message="No application metrics")
    emulator = start_emulator()
    os.environ["PLATFORM_API_KEY"] = PLATFORM_KEY
    from app import app
    from chalicelib.services import registry
    from chalicelib.store.table import connection, reset_binding

    calls: Counter[str] = Counter()

    def count(model: object, params: object, **kwargs: object) -> None:
        calls[getattr(model, "name", "?")] += 1

    print(f"{'providers':>9} {'days':>5} {'dynamodb calls':>15}  by operation")
    try:
        for providers in (1, 5, 10):
            emulator.reset()
            os.environ["TABLE_NAME"] = provision({"Stage": "dev"})["AppTable"]
            reset_binding()
            registry.reset()
            registry.set_clock(lambda: NOW)
            with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
                opened = _call(
                    client,
                    "post",
                    "/v1/platform/tenants",
                    {
                        "name": "Bench",
                        "slug": f"bench{providers}",
                        "timezone": "UTC",
                        "currency": "USD",
                        "email": "b@bench.test",
                    },
                    Authorization=f"Bearer {PLATFORM_KEY}",
                )
                admin = {"Authorization": f"Bearer {opened['secretKey']}"}
                service = _call(client, "post", "/v1/admin/services", {"name": "S", "durationMinutes": 30}, **admin)
                for index in range(providers):
                    provider = _call(
                        client,
                        "post",
                        "/v1/admin/providers",
                        {"name": f"P{index}", "email": f"p{index}@bench.test", "serviceIds": [service["id"]]},
                        **admin,
                    )
                    _call(
                        client,
                        "put",
                        f"/v1/admin/providers/{provider['id']}/availability",
                        {"rules": [{"dayOfWeek": d, "start": "09:00", "end": "17:00"} for d in range(7)]},
                        **admin,
                    )
                for day in range(0, 60, 3):
                    start = (NOW + timedelta(days=day)).replace(hour=10)
                    _call(
                        client,
                        "post",
                        "/v1/public/appointments",
                        {
                            "serviceId": service["id"],
                            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "client": {"name": "C", "email": f"c{day}@bench.test", "timezone": "UTC"},
                        },
                        **{"X-Tenant-Key": opened["publishableKey"]},
                    )
                connection().client.meta.events.register("before-call.dynamodb.*", count)
                for days in (1, 30, 62):
                    calls.clear()
                    end = (NOW + timedelta(days=days - 1)).date().isoformat()
                    _call(
                        client,
                        "get",
                        f"/v1/public/services/{service['id']}/availability?start={NOW.date()}&end={end}&timezone=UTC",
                        **{"X-Tenant-Key": opened["publishableKey"]},
                    )
                    print(f"{providers:>9} {days:>5} {sum(calls.values()):>15}  {dict(calls)}")
                connection().client.meta.events.unregister("before-call.dynamodb.*", count)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
