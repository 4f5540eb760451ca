"""A small, honest fake of the Google APIs this product uses, for tests and the local stack.

Stdlib only. It serves OAuth 2.0 (a one-click consent page, the token endpoint with PKCE,
refresh and revoke) and the Calendar API v3 paths the real google-api-python-client calls
(events insert/get/list/patch/update/delete/watch, channels.stop) with Google's error
shapes, sync tokens and 410 Gone, and POSTs watch-channel notifications. Failures (429,
403 rateLimitExceeded, 5xx, invalid_grant) can be injected. See `FakeGoogle`.
"""

from ._core import OWNER_TOKEN, GoogleError
from ._fake import FakeGoogle

__all__ = ["OWNER_TOKEN", "FakeGoogle", "GoogleError"]
