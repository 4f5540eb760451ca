"""`python -m infra.local.fake_stripe [--port 12111] [--webhook-url URL]`: run the fake on its own."""

from __future__ import annotations

import argparse
import os
import threading

from ._fake import FakeStripe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("FAKE_STRIPE_PORT", "12111")))
    parser.add_argument("--api-key", default=os.environ.get("STRIPE_SECRET_KEY", "sk_test_fake"))
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET"))
    parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_WEBHOOK_URL"))
    parser.add_argument("--public-url", default=None)
    args = parser.parse_args()
    fake = FakeStripe(
        port=args.port,
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        public_url=args.public_url,
    ).start()
    print(
        f"fake stripe on {fake.url} (webhook secret {fake.webhook_secret}, webhooks to {fake.webhook_url})", flush=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
