"""A small, honest fake of the Stripe API this product uses, for tests and the local stack.

Stdlib only. It serves Stripe's v1 API (Connect accounts and account links, Checkout Sessions,
PaymentIntents, refunds, balance transactions) with Stripe's error shapes, idempotency and per-account scoping, the
hosted Checkout and onboarding pages, and delivers signed webhooks. See `FakeStripe`.
"""

from ._fake import DEFAULT_API_VERSION, FakeStripe
from ._params import ApiError as FakeStripeError

__all__ = ["DEFAULT_API_VERSION", "FakeStripe", "FakeStripeError"]
