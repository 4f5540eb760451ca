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
