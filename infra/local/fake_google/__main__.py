"""`python -m infra.local.fake_google [--port 12112]`: run the fake on its own."""

from __future__ import annotations

import argparse
import os
import threading

from ._fake import FakeGoogle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("FAKE_GOOGLE_PORT", "12112")))
    parser.add_argument(
        "--client-id", default=os.environ.get("GOOGLE_CLIENT_ID", "fake-client.apps.googleusercontent.com")
    )
    parser.add_argument("--client-secret", default=os.environ.get("GOOGLE_CLIENT_SECRET", "fake-client-secret"))
    args = parser.parse_args()
    fake = FakeGoogle(port=args.port, client_id=args.client_id, client_secret=args.client_secret).start()
    print(f"fake google on {fake.url} (owner token {fake.owner_token})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
