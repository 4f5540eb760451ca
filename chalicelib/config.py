"""Configuration read from the environment when first needed, never at import.

Chalice's test client sets stage environment variables only during a call, so nothing
here may be cached at module import time.
"""

from __future__ import annotations

import os


def table_name() -> str:
    return os.environ.get("TABLE_NAME", "scheduling-dev")


def platform_api_key() -> str | None:
    """The operator's key, in plain text (local and dev) ..."""
    return os.environ.get("PLATFORM_API_KEY") or None


def platform_api_key_sha256() -> str | None:
    """... or only its SHA-256 (preferred in deployed stages: the Lambda never sees the key)."""
    return os.environ.get("PLATFORM_API_KEY_SHA256") or None


def public_base_url() -> str:
    """Where hosted pages and manage links point."""
    return os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def stage() -> str:
    return os.environ.get("STAGE", "dev")


def schedule_group() -> str:
    return os.environ.get("SCHEDULE_GROUP", f"scheduling-{stage()}")


def schedule_target_arn() -> str:
    """The scheduled_task Lambda (set by the merge template; a local placeholder otherwise)."""
    return os.environ.get(
        "SCHEDULE_TARGET_ARN", f"arn:aws:lambda:us-east-1:123456789012:function:scheduling-{stage()}-scheduled_task"
    )


def scheduler_role_arn() -> str:
    return os.environ.get("SCHEDULER_ROLE_ARN", f"arn:aws:iam::123456789012:role/scheduling-{stage()}-scheduler")


def scheduler_dead_letter_arn() -> str | None:
    return os.environ.get("SCHEDULER_DLQ_ARN") or None


def mail_configuration_set() -> str | None:
    return os.environ.get("MAIL_CONFIGURATION_SET") or None


def local_mode() -> bool:
    return os.environ.get("LOCAL_MODE") == "1"


def stripe_api_base() -> str | None:
    """A local fake Stripe's address (tests, `make run`); unset in AWS."""
    return os.environ.get("STRIPE_API_BASE") or None


def platform_fee_bps() -> int:
    """The platform's application fee on every charge, in basis points (operator setting)."""
    return int(os.environ.get("PLATFORM_FEE_BPS", "0"))


def refund_queue_name() -> str:
    return os.environ.get("REFUND_QUEUE_NAME", f"scheduling-{stage()}-refunds")


def refund_max_receives() -> int:
    """Matches the queue's redrive maxReceiveCount: the last attempt marks the request failed."""
    return int(os.environ.get("REFUND_MAX_RECEIVES", "5"))


def invoice_bucket() -> str:
    """The private bucket of invoice PDFs (set by the merge template; the emulator's name otherwise)."""
    return os.environ.get("INVOICE_BUCKET", f"scheduling-{stage()}-invoices-123456789012")


def google_api_base() -> str | None:
    """A local fake Google's address (tests, `make run`); unset in AWS (Google's own endpoints)."""
    return os.environ.get("GOOGLE_API_BASE") or None


def calendar_token_key() -> str:
    """The KMS key (id, ARN or alias) that encrypts Google refresh tokens (infra: CalendarTokenKey)."""
    return os.environ.get("CALENDAR_TOKEN_KEY", f"alias/scheduling-{stage()}-calendar-tokens")
