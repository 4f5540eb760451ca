"""Stripe, behind a small interface. The SDK is imported on first use (it costs ~0.1 s).

Every call that moves money carries an idempotency key derived from our own ids, so a
retried request can never charge or refund twice. Stripe's errors are translated here into
the few outcomes the services reason about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.reconciliation import BalanceTransaction


class PaymentError(Exception):
    """A request Stripe refused for good (bad parameters, already refunded...): do not retry."""


class PaymentUnavailableError(Exception):
    """Stripe could not be reached or answered 5xx/429: retry later."""


class CardDeclinedError(PaymentError):
    def __init__(self, message: str, decline_code: str | None, payment_intent_id: str | None) -> None:
        super().__init__(message)
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class WebhookSignatureError(Exception):
    """A webhook whose signature, secret or timestamp does not check out."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # succeeded | pending | failed | canceled
    amount_cents: int


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    amount_cents: int
    status: str


class TooManyTransactionsError(PaymentError):
    """The period holds more balance transactions than one answer reads: narrow it."""


@dataclass(frozen=True)
class CheckoutRequest:
    account: str
    amount_cents: int
    currency: str
    product_name: str
    application_fee_cents: int
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    expires_at: datetime
    customer_email: str
    save_card: bool
    idempotency_key: str


class PaymentGateway(Protocol):
    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    def expire_checkout(self, account: str, session_id: str) -> None: ...

    def refund(
        self, account: str, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> Refund: ...

    def charge_saved_card(
        self,
        account: str,
        customer: str,
        payment_method: str,
        amount_cents: int,
        currency: str,
        application_fee_cents: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Charge: ...

    def payment_intent(self, account: str, payment_intent_id: str) -> dict[str, Any]: ...

    def create_account(self, email: str, idempotency_key: str) -> str: ...

    def onboarding_link(self, account: str, refresh_url: str, return_url: str) -> str: ...

    def account_status(self, account: str) -> dict[str, bool]: ...

    def balance_transactions(
        self, account: str, start: datetime, end: datetime, limit: int
    ) -> list[BalanceTransaction]: ...

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...


class StripeGateway:
    """The real adapter: the official SDK (`base_url` points it at a local fake in tests and locally)."""

    WEBHOOK_TOLERANCE_SECONDS = 300

    def __init__(
        self, secret_key: str, webhook_secret: str, base_url: str | None = None, max_network_retries: int = 2
    ) -> None:
        import stripe

        self._stripe = stripe
        addresses: Any = {"api": base_url, "connect": base_url, "files": base_url} if base_url else None
        self._client = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=max_network_retries
        )
        self._webhook_secret = webhook_secret

    def _call(self, action: Any) -> Any:
        stripe = self._stripe
        try:
            return action()
        except stripe.CardError as exc:
            error = exc.error
            intent = getattr(error, "payment_intent", None) if error is not None else None
            raise CardDeclinedError(
                exc.user_message or "The card was declined.",
                getattr(error, "decline_code", None) if error is not None else None,
                intent.get("id") if isinstance(intent, dict) else getattr(intent, "id", None),
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise PaymentUnavailableError(type(exc).__name__) from exc
        except stripe.APIError as exc:
            raise PaymentUnavailableError("stripe api error") from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 0) >= 500:
                raise PaymentUnavailableError("stripe server error") from exc
            raise PaymentError(exc.user_message or str(exc.code or "stripe error")) from exc

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        intent_data: dict[str, Any] = {
            "application_fee_amount": request.application_fee_cents,
            "metadata": request.metadata,
        }
        if request.save_card:
            intent_data["setup_future_usage"] = "off_session"
        params: Any = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_cents,
                        "product_data": {"name": request.product_name},
                    },
                    "quantity": 1,
                }
            ],
            "payment_intent_data": intent_data,
            "metadata": request.metadata,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
            "customer_email": request.customer_email,
        }
        if request.save_card:
            params["customer_creation"] = "always"
        session = self._call(
            lambda: self._client.v1.checkout.sessions.create(
                params=params, options={"stripe_account": request.account, "idempotency_key": request.idempotency_key}
            )
        )
        return CheckoutSession(session.id, session.url, request.expires_at)

    def expire_checkout(self, account: str, session_id: str) -> None:
        self._call(lambda: self._client.v1.checkout.sessions.expire(session_id, options={"stripe_account": account}))

    def refund(
        self, account: str, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> Refund:
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return Refund(refund.id, refund.status, int(refund.amount))

    def charge_saved_card(
        self,
        account: str,
        customer: str,
        payment_method: str,
        amount_cents: int,
        currency: str,
        application_fee_cents: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Charge:
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "customer": customer,
                    "payment_method": payment_method,
                    "off_session": True,
                    "confirm": True,
                    "application_fee_amount": application_fee_cents,
                    "metadata": metadata,
                },
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return Charge(intent.id, int(intent.amount), intent.status)

    def payment_intent(self, account: str, payment_intent_id: str) -> dict[str, Any]:
        intent = self._call(
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id, options={"stripe_account": account})
        )
        return {
            "id": intent.id,
            "customer": getattr(intent, "customer", None),
            "payment_method": getattr(intent, "payment_method", None),
            "latest_charge": getattr(intent, "latest_charge", None),
            "amount": getattr(intent, "amount", None),
            "application_fee_amount": getattr(intent, "application_fee_amount", None),
        }

    def create_account(self, email: str, idempotency_key: str) -> str:
        account = self._call(
            lambda: self._client.v1.accounts.create(
                params={"type": "express", "email": email}, options={"idempotency_key": idempotency_key}
            )
        )
        return str(account.id)

    def onboarding_link(self, account: str, refresh_url: str, return_url: str) -> str:
        link = self._call(
            lambda: self._client.v1.account_links.create(
                params={
                    "account": account,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        )
        return str(link.url)

    def account_status(self, account: str) -> dict[str, bool]:
        found = self._call(lambda: self._client.v1.accounts.retrieve(account))
        return {
            "chargesEnabled": bool(getattr(found, "charges_enabled", False)),
            "detailsSubmitted": bool(getattr(found, "details_submitted", False)),
            "payoutsEnabled": bool(getattr(found, "payouts_enabled", False)),
        }

    def balance_transactions(
        self, account: str, start: datetime, end: datetime, limit: int
    ) -> list[BalanceTransaction]:
        """Every transaction created in [start, end), sources expanded, read 100 a page; more than
        `limit` raises rather than answering with part of the period."""
        params: Any = {
            "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
            "limit": 100,
            "expand": ["data.source"],
        }
        from itertools import islice

        def read() -> list[Any]:
            page = self._client.v1.balance_transactions.list(params=params, options={"stripe_account": account})
            return list(islice(page.auto_paging_iter(), limit + 1))  # the pages are fetched here

        found = self._call(read)
        if len(found) > limit:
            raise TooManyTransactionsError(f"more than {limit} balance transactions in the period")
        return [_balance_transaction(txn) for txn in found]

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        stripe = self._stripe
        if not signature:
            raise WebhookSignatureError("missing Stripe-Signature")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, self._webhook_secret, self.WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise WebhookSignatureError("signature does not verify") from exc
        import json

        event: dict[str, Any] = json.loads(payload)
        return event


def _balance_transaction(txn: Any) -> BalanceTransaction:
    from datetime import UTC

    source = getattr(txn, "source", None)
    source_id = source if isinstance(source, str) or source is None else getattr(source, "id", None)
    intent = None if isinstance(source, str) or source is None else getattr(source, "payment_intent", None)
    details = getattr(txn, "fee_details", None) or []
    platform = sum(int(d.amount) for d in details if getattr(d, "type", None) == "application_fee")
    return BalanceTransaction(
        id=str(txn.id),
        type=str(txn.type),
        amount_cents=int(txn.amount),
        currency=str(txn.currency).upper(),
        application_fee_cents=platform,
        processing_fee_cents=int(getattr(txn, "fee", 0) or 0) - platform,
        created=datetime.fromtimestamp(int(txn.created), UTC),
        source_id=source_id,
        payment_intent_id=intent if isinstance(intent, str) else getattr(intent, "id", None),
    )
