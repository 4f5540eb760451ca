"""The Stripe connected account, refunds, the ledger and the balance as the API reads and writes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.api.model_types import Body, Cents, Currency, Instant, Note, omitted
from chalicelib.domain.payments import LedgerKind, RefundStatus


class StripeAccountBody(Body):
    account_id: str = Field(min_length=1, max_length=64, examples=["acct_1Nv0FGQ9RKHgCVdK"])


class StripeAccount(Body):
    account_id: str | None = Field(description="null: no account connected yet")
    charges_enabled: bool
    details_submitted: bool
    payouts_enabled: bool
    platform_fee_bps: int | None = omitted(description="the platform's fee in basis points")


class Url(Body):
    url: str


class LedgerEntry(Body):
    id: str
    kind: LedgerKind
    amount_cents: int = Field(description="minor units; refunds and fees are positive")
    currency: Currency
    at: Instant
    stripe_id: str | None
    note: str


class Refund(Body):
    id: str
    amount_cents: Cents
    currency: Currency
    status: RefundStatus
    reason: str
    requested_at: Instant
    stripe_refund_id: str | None = Field(description="set once Stripe accepted the refund")
    failure: str | None = Field(description="why Stripe refused it, when it did")


class NewRefund(Body):
    amount_cents: Annotated[int, Field(ge=1, le=100_000_000)] | None = Field(
        None, description="null: everything still refundable"
    )
    reason: Note | None = None


class PaymentTotals(Body):
    paid_cents: Cents
    refunded_cents: Cents
    refundable_cents: Cents
    currency: Currency
    payment_status: str


class Payments(Body):
    items: list[LedgerEntry]
    refunds: list[Refund]
    totals: PaymentTotals
    next_cursor: None = None


class BalanceBody(Body):
    method: Literal["link", "charge"] = Field("link", description="link: a Checkout link; charge: the saved card")


class Balance(Body):
    owed_cents: Cents
    url: str | None = omitted(description="method=link")
    charged_cents: Cents | None = omitted(description="method=charge")


class WebhookReceipt(Body):
    received: bool
    outcome: str
