"""`make run`: the whole product on one machine.

Starts moto's server on 127.0.0.1 as the AWS stand-in (unless LOCAL_AWS=0), provisions it
from infra/template.json, seeds a demo tenant, serves the API with Chalice's local server
on 127.0.0.1:$PORT, writes .local/demo.json, prints `ready`, and runs the pumps that make
streams, queues and schedules behave as on AWS. Ctrl-C or SIGTERM stops everything it
started within a few seconds, even under load; a second signal exits at once. Every run
starts with an empty outbox, so `/_local/mail` lists only this run's mail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qs, urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO_CALENDAR = "provider@demo.test"  # the fake Google account of the demo provider's calendar


def _local_dir() -> Path:
    path = Path(os.environ.get("LOCAL_DIR", PROJECT_DIR / ".local"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    use_emulator = os.environ.get("LOCAL_AWS", "1") != "0"
    platform_key = os.environ.get("PLATFORM_API_KEY") or secrets.token_urlsafe(32)
    api_url = f"http://127.0.0.1:{port}"

    emulator = None
    if use_emulator:
        from infra.local.emulator import start_emulator_process
        from infra.local.provision import provision

        emulator = start_emulator_process(int(os.environ.get("MOTO_PORT", "0")))
        physical = provision({"Stage": os.environ.get("STAGE", "dev")})
        print(f"emulator on {emulator.url}", flush=True)
    else:
        physical = {}
        print("LOCAL_AWS=0: using the AWS account of the current credentials", flush=True)

    stripe = None
    if use_emulator and not os.environ.get("STRIPE_SECRET_KEY"):
        from infra.local.fake_stripe import FakeStripe

        stripe = FakeStripe(port=int(os.environ.get("STRIPE_PORT", "0")), webhook_url=f"{api_url}/v1/webhooks/stripe")
        stripe.start()
        os.environ.update(
            {
                "STRIPE_SECRET_KEY": stripe.api_key,
                "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
                "STRIPE_API_BASE": stripe.url,
            }
        )
        print(f"fake Stripe on {stripe.url} (checkout pages pay with one click)", flush=True)

    google = None
    if use_emulator and not os.environ.get("GOOGLE_CLIENT_ID"):
        from infra.local.fake_google import FakeGoogle

        google = FakeGoogle(port=int(os.environ.get("GOOGLE_PORT", "0"))).start()
        os.environ.update(
            {
                "GOOGLE_CLIENT_ID": google.client_id,
                "GOOGLE_CLIENT_SECRET": google.client_secret,
                "GOOGLE_API_BASE": google.url,
            }
        )
        print(f"fake Google on {google.url} (consent with one click; owner token {google.owner_token})", flush=True)

    from chalice.cli.factory import CLIFactory

    from infra.local.http_server import pooled_local_server

    outbox = _local_dir() / "outbox"
    shutil.rmtree(outbox, ignore_errors=True)  # the last run's mail names tenants that no longer exist
    outbox.mkdir()
    os.environ["LOCAL_MODE"] = "1" if use_emulator else "0"  # read when the app loads (GET /_local/mail)
    os.environ["LOCAL_OUTBOX_DIR"] = str(outbox)
    config = CLIFactory(str(PROJECT_DIR), environ=os.environ).create_config_obj(chalice_stage_name="dev")
    app = config.chalice_app  # loading the app applies the stage's variables; ours must come after
    # Local values win over the stage's deployed ones (the factory applied those while loading the app).
    os.environ["PLATFORM_API_KEY"] = platform_key
    os.environ["PUBLIC_BASE_URL"] = api_url
    if "AppTable" in physical:
        os.environ["TABLE_NAME"] = physical["AppTable"]
    if "InvoiceBucket" in physical:
        os.environ["INVOICE_BUCKET"] = physical["InvoiceBucket"]

    from infra.local.pumps import Pump, PumpRunner, QueuePump, SchedulePump, StreamPump
    from infra.local.seed import seed_demo_tenant, unique_demo_slug

    demo = seed_demo_tenant("demo" if use_emulator else unique_demo_slug())
    if stripe is not None:
        from chalicelib.services import registry

        account = registry.payment_gateway().create_account("owner@demo.test", idempotency_key="demo-account")
        stripe.complete_onboarding(account)
        registry.payments_setup().connect(registry.tenant_repository().get(demo.tenant["id"]), account)
    if google is not None:  # the demo provider's calendar, connected through the fake's consent page
        from chalicelib.services import registry

        calendar = registry.calendar_sync()
        authorize = calendar.authorize_url(demo.tenant["id"], demo.provider_id)
        granted = parse_qs(urlsplit(google.consent(authorize, DEMO_CALENDAR)).query)
        calendar.complete_callback(granted["code"][0], granted["state"][0])
    server = pooled_local_server(app, config, "127.0.0.1", port)
    pumps = PumpRunner()
    stream = None
    if use_emulator:
        from chalicelib.api.events import dispatch_records, run_scheduled_task
        from chalicelib.api.queues import process_refund_batch
        from chalicelib.domain.clock import utc_now

        dead_letters = physical.get("EventsDeadLetterQueue")
        if dead_letters:  # the schedules' DeadLetterConfig, as the merge template sets it in AWS
            from chalicelib.gateways.aws import client

            os.environ["SCHEDULER_DLQ_ARN"] = client("sqs").get_queue_attributes(
                QueueUrl=dead_letters, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        stream = StreamPump(
            physical["AppTable"], dispatch_records, dead_letters, retry_delay_seconds=1.0, parallelization=4
        )
        schedules = SchedulePump(
            physical["ScheduleGroup"], run_scheduled_task, utc_now, dead_letters, list_every_seconds=15.0
        )
        for pump in stream.pumps(interval_seconds=0.1):
            pumps.register(pump)
        # A refund waits up to a second locally (Stripe takes days): polling SQS faster only
        # takes the emulator's time from the calls a client is waiting for.
        refunds = QueuePump(physical["RefundQueue"], process_refund_batch)
        pumps.register(Pump("refunds", refunds.run_once, interval_seconds=1.0))
        pumps.register(Pump("schedules", schedules.run_once, interval_seconds=1.0))
        if google is not None:  # the 15-minute calendar poll, every minute locally

            def poll_calendars() -> int:
                from chalicelib.services import registry

                return registry.calendar_sync().poll()["synced"]

            pumps.register(Pump("calendar-poll", poll_calendars, interval_seconds=60.0))
    pumps.start()

    demo_file = _local_dir() / "demo.json"
    demo_file.write_text(
        json.dumps(
            {
                "apiUrl": api_url,
                "platformApiKey": platform_key,
                "tenant": demo.tenant,
                "publishableKey": demo.publishable_key,
                "secretKey": demo.secret_key,
                "serviceId": demo.service["id"],
                "providerId": demo.provider_id,
                "stripeApiBase": os.environ.get("STRIPE_API_BASE"),
                "googleApiBase": google.url if google is not None else None,
                "googleCalendarId": DEMO_CALENDAR if google is not None else None,
                "googleOwnerToken": google.owner_token if google is not None else None,
            },
            indent=2,
        )
    )
    demo_file.chmod(0o600)

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            os._exit(128 + signum)  # a second Ctrl-C: the user does not want to wait
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"ready: API on {api_url} (demo credentials in {demo_file})", flush=True)
    pid_file = _local_dir() / "stack.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    try:
        server.server.serve_forever()
    finally:
        server.server.server_close()  # no new requests; the ones in flight finish
        pumps.stop()
        if stream is not None:
            stream.close()
        pid_file.unlink(missing_ok=True)
        if stripe is not None:
            stripe.stop()
        if google is not None:
            google.stop()
        if emulator is not None:
            emulator.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
