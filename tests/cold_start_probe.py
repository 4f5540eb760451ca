"""Run in a fresh interpreter: open a shop, read availability and book a free time through the
app, then print which of the heavy libraries were loaded. Used by tests/integration/test_cold_start.py.

    python -m tests.cold_start_probe <project dir>   (AWS_ENDPOINT_URL, TABLE_NAME, PLATFORM_API_KEY set)
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

import app as application

HEAVY = ("stripe", "googleapiclient", "fpdf", "jinja2")
ALL_WEEK = [{"dayOfWeek": day, "start": "00:00", "end": "24:00", "serviceIds": None} for day in range(7)]


def main(project_dir: str, platform_key: str) -> None:
    with Client(application.app, stage_name="dev", project_dir=project_dir) as client:

        def call(method: str, path: str, body: Any = None, **headers: str) -> Any:
            sent = {"Content-Type": "application/json", **headers}
            payload = json.dumps(body).encode() if body is not None else b""
            answer = getattr(client.http, method)(path, headers=sent, body=payload)
            assert answer.status_code < 300, (path, answer.status_code, answer.body)
            return json.loads(answer.body)

        tenant = call(
            "post",
            "/v1/platform/tenants",
            {"name": "Cold", "slug": "cold", "timezone": "UTC", "currency": "USD", "email": "o@cold.test"},
            Authorization=f"Bearer {platform_key}",
        )
        admin = {"Authorization": f"Bearer {tenant['secretKey']}"}
        service = call("post", "/v1/admin/services", {"name": "Free", "durationMinutes": 30, "priceCents": 0}, **admin)
        provider = call(
            "post", "/v1/admin/providers", {"name": "P", "email": "p@cold.test", "serviceIds": [service["id"]]}, **admin
        )
        call("put", f"/v1/admin/providers/{provider['id']}/availability", {"rules": ALL_WEEK}, **admin)
        public = {"X-Tenant-Key": tenant["publishableKey"]}
        day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        slots = call(
            "get", f"/v1/public/services/{service['id']}/availability?start={day}&end={day}&timezone=UTC", **public
        )
        start = slots["slots"][0]["start"]
        booking = {
            "serviceId": service["id"],
            "start": start,
            "client": {"name": "Ann", "email": "ann@example.test", "timezone": "UTC"},
            "intake": {},
        }
        call("post", "/v1/public/appointments", booking, **public)
    print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
