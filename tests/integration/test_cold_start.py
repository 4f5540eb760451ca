"""The booking path loads only what it needs (issue 9 item 6): a fresh interpreter that opens a
shop, reads availability and books a free time never imports Stripe, the Google client, fpdf2
or jinja2 (each loads on first use by the functions that need it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PLATFORM_KEY, PROJECT_DIR


def test_availability_and_booking_never_load_stripe_google_fpdf_or_jinja2(aws: str) -> None:
    # GIVEN a fresh interpreter pointed at the emulator (which runs in this process)
    environment = {**os.environ, "TABLE_NAME": aws, "PYTHONPATH": str(PROJECT_DIR)}

    # WHEN it opens a shop, reads availability and books through the app
    probe = subprocess.run(
        [sys.executable, "-m", "tests.cold_start_probe", str(PROJECT_DIR), PLATFORM_KEY],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # THEN it worked, and none of the heavy libraries was imported
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []


def test_importing_the_app_builds_no_model_and_loads_no_persistence_layer() -> None:
    # GIVEN a fresh interpreter, WHEN it imports the app (every Lambda of it does)
    listed = subprocess.run(
        [sys.executable, "-c", "import sys, app, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(listed.stdout.strip().splitlines()[-1]))

    # THEN routes are registered, but no model module, service, repository or AWS client library is loaded
    heavy = {"pynamodb", "boto3", "chalicelib.services.registry", "chalicelib.store.appointments"}
    heavy |= {f"chalicelib.api.{name}_models" for name in ("appointment", "catalog", "tenant", "payment", "audit")}
    assert "chalicelib.api.public_booking" in loaded
    assert heavy & loaded == set()
