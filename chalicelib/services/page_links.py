"""Signed links to pages: the page-signing key, and the Checkout return URLs.

Stripe's success and cancel URLs end up in the browser's history, Stripe's dashboard and
logs, so they must not hold the manage token. They carry a short-lived reference instead:
tenant, appointment, outcome and expiry under an HMAC with the page-signing key. The page
it opens shows the booking's state (no actions); a visitor who has the manage cookie is sent
on to the full manage page. Nothing here grants more than the status of one booking.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from chalicelib import config
from chalicelib.gateways.secrets import MissingSecretError, secret
from chalicelib.observability import logger

RETURN_GRACE = timedelta(days=1)  # the return page works this long after the Checkout expires


@lru_cache(maxsize=1)
def signing_key() -> bytes:
    """PAGE_SIGNING_KEY (or its SSM parameter); without one, a key for this process only."""
    try:
        return secret("PAGE_SIGNING_KEY").encode()
    except MissingSecretError:
        if not config.local_mode():
            logger.warning("PAGE_SIGNING_KEY missing: form tokens are valid in this process only")
        return secrets.token_bytes(32)


def sign(*parts: str) -> str:
    return hmac.new(signing_key(), "|".join(parts).encode(), hashlib.sha256).hexdigest()


def _return_parts(tenant_id: str, appointment_id: str, paid: str, expires: str) -> tuple[str, ...]:
    return ("checkout-return", tenant_id, appointment_id, paid, expires)


def checkout_return_url(base: str, tenant_id: str, appointment_id: str, paid: bool, checkout_expires: datetime) -> str:
    """Where Checkout sends the client back (`paid` on success, not on cancel)."""
    outcome = "1" if paid else "0"
    expires = str(int((checkout_expires + RETURN_GRACE).timestamp()))
    signature = sign(*_return_parts(tenant_id, appointment_id, outcome, expires))
    query = urlencode({"t": tenant_id, "paid": outcome, "exp": expires, "sig": signature})
    return f"{base}/manage/{appointment_id}/return?{query}"


def return_reference_ok(
    tenant_id: str, appointment_id: str, paid: str, expires: str, signature: str, now: datetime
) -> bool:
    """The reference is ours, for this booking and outcome, and not expired (constant-time compare)."""
    if paid not in ("0", "1") or not expires.isdigit() or len(signature) != 64:
        return False
    wanted = sign(*_return_parts(tenant_id, appointment_id, paid, expires))
    return hmac.compare_digest(wanted, signature) and now.timestamp() < int(expires)
