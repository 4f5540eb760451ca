"""PaymentIntents, charges, saved payment methods and refunds."""

from __future__ import annotations

from typing import Any

from . import _balance as balance
from ._connect import EXPAND, RETRIEVE
from ._core import Core, Decline, new_id
from ._params import (
    LEAF,
    META,
    ApiError,
    Json,
    boolean,
    check,
    choice,
    currency,
    integer,
    invalid,
    metadata,
    optional_integer,
    required,
)

# Stripe's test payment methods (https://docs.stripe.com/testing): brand, last4, and how a charge ends.
TEST_CARDS: dict[str, tuple[str, str, Decline | None]] = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_chargeDeclined": ("visa", "0002", Decline()),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "visa",
        "9995",
        Decline(decline_code="insufficient_funds", message="Your card has insufficient funds."),
    ),
    "pm_card_authenticationRequired": (
        "visa",
        "3184",
        Decline(
            code="authentication_required",
            decline_code="authentication_required",
            message="Your card was declined. This transaction requires authentication.",
        ),
    ),
}

INTENT_DATA = {
    "application_fee_amount": LEAF,
    "setup_future_usage": LEAF,
    "metadata": META,
    "description": LEAF,
    "receipt_email": LEAF,
    "statement_descriptor": LEAF,
    "statement_descriptor_suffix": LEAF,
    "capture_method": LEAF,
    "transfer_data": {"destination": LEAF, "amount": LEAF},
    "on_behalf_of": LEAF,
    "transfer_group": LEAF,
}
_INTENT_CREATE = {
    **{k: v for k, v in INTENT_DATA.items() if k != "capture_method"},
    "amount": LEAF,
    "currency": LEAF,
    "customer": LEAF,
    "payment_method": LEAF,
    "payment_method_types": [LEAF],
    "off_session": LEAF,
    "confirm": LEAF,
    "capture_method": LEAF,
    "error_on_requires_action": LEAF,
    "expand": EXPAND,
}
_REFUND_CREATE = {
    "payment_intent": LEAF,
    "charge": LEAF,
    "amount": LEAF,
    "reason": LEAF,
    "metadata": META,
    "refund_application_fee": LEAF,
    "reverse_transfer": LEAF,
    "expand": EXPAND,
}


def require_charges_enabled(core: Core, account: str | None) -> None:
    if account is not None and not core.objects[account]["charges_enabled"]:
        raise invalid(
            f"This account cannot currently make charges: '{account}' has charges_enabled=false "
            "(fake_stripe: finish onboarding through an account link, or call FakeStripe.complete_onboarding)."
        )


def application_fee(params: Json, account: str | None, amount: int, name: str) -> int | None:
    raw = params.get("application_fee_amount")
    fee = None if raw is None or raw == "" else integer(raw, name, 0)
    transfer = params.get("transfer_data")
    if fee is not None and account is None and not (isinstance(transfer, dict) and transfer.get("destination")):
        raise invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
            "(using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
            name,
        )
    if fee is not None and fee > amount:
        raise invalid("The application fee amount cannot be greater than the amount.", name)
    return fee


def terms_of(params: Json, fee: int | None) -> Json:
    """What a PaymentIntent carries from its creation parameters (or a session's payment_intent_data)."""
    return {
        "application_fee_amount": fee,
        "capture_method": params.get("capture_method") or "automatic",
        "description": params.get("description") or None,
        "setup_future_usage": params.get("setup_future_usage") or None,
        "metadata": metadata(params.get("metadata")),
    }


# --- PaymentIntents and charges --------------------------------------------------------------


def decline_for(core: Core, card: str) -> Decline | None:
    if core.declines:
        return core.declines.pop(0)
    return TEST_CARDS[card][2] if card in TEST_CARDS else None


def new_payment_method(core: Core, account: str | None, card: str, customer: str | None) -> Json:
    brand, last4, _ = TEST_CARDS.get(card, TEST_CARDS["pm_card_visa"])
    details = {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034, "funding": "credit"}
    obj = core.base("pm_", "payment_method", type="card", card=details, customer=customer, metadata={})
    obj["billing_details"] = {"email": None, "name": None}
    core.private[obj["id"]] = {"used": False}
    return core.store(obj, account)


def confirm_payment(
    core: Core,
    account: str | None,
    amount: int,
    currency_: str,
    customer: str | None,
    method: Json,
    terms: Json,
    decline: Decline | None = None,
) -> Json:
    """A confirmed payment: the charge, the intent, their events; a decline raises the 402 Stripe answers."""
    core.private[method["id"]]["used"] = True
    fee = terms["application_fee_amount"]
    intent = core.base("pi_", "payment_intent", amount=amount, currency=currency_, customer=customer)
    charge = core.base("ch_", "charge", amount=amount, currency=currency_, customer=customer)
    charge.update(
        payment_intent=intent["id"],
        payment_method=method["id"],
        payment_method_details={"type": "card", "card": {k: method["card"][k] for k in ("brand", "last4")}},
        application_fee_amount=fee,
        application_fee=new_id("fee_") if fee and account else None,
        balance_transaction=None,
        amount_captured=0 if decline else amount,
        amount_refunded=0,
        captured=decline is None,
        paid=decline is None,
        refunded=False,
        status="failed" if decline else "succeeded",
        failure_code=decline.code if decline else None,
        failure_message=decline.message if decline else None,
        outcome={
            "type": "issuer_declined" if decline else "authorized",
            "reason": decline.decline_code if decline else None,
        },
        metadata=dict(terms["metadata"]),
        refunds={"object": "list", "data": [], "has_more": False, "total_count": 0, "url": "/v1/refunds"},
    )
    intent.update(
        object="payment_intent",
        amount_received=0 if decline else amount,
        application_fee_amount=fee,
        capture_method=terms["capture_method"],
        client_secret=f"{intent['id']}_secret_{new_id('', 24)}",
        confirmation_method="automatic",
        description=terms["description"],
        latest_charge=charge["id"],
        payment_method=None if decline else method["id"],
        payment_method_types=["card"],
        setup_future_usage=terms["setup_future_usage"],
        status="requires_payment_method" if decline else "succeeded",
        last_payment_error=None,
        metadata=dict(terms["metadata"]),
    )
    core.store(charge, account)
    core.store(intent, account)
    if decline is None:
        charge["balance_transaction"] = balance.record(
            core, account, "charge", amount, currency_, charge["id"], fee if account else 0
        )
        core.emit("charge.succeeded", charge, account)
        core.emit("payment_intent.succeeded", intent, account)
        return intent
    error: Json = {
        "type": "card_error",
        "code": decline.code,
        "decline_code": decline.decline_code,
        "message": decline.message,
        "charge": charge["id"],
        "payment_method": dict(method),
        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
    }
    intent["last_payment_error"] = dict(error)
    core.emit("charge.failed", charge, account)
    core.emit("payment_intent.payment_failed", intent, account)
    extra = {k: v for k, v in error.items() if k not in ("type", "code", "message")}
    raise ApiError(
        402, "card_error", decline.message, code=decline.code, extra={**extra, "payment_intent": dict(intent)}
    )


def create_payment_intent(core: Core, account: str | None, params: Json) -> Json:
    check(params, _INTENT_CREATE)
    amount = integer(required(params, "amount"), "amount", 1)
    currency_ = currency(required(params, "currency"), "currency")
    terms = terms_of(params, application_fee(params, account, amount, "application_fee_amount"))
    choice(params, "capture_method", ("automatic", "automatic_async"))
    choice(params, "setup_future_usage", ("on_session", "off_session"))
    customer = params.get("customer") or None
    if customer is not None:
        core.get("customer", customer, account, "customer")
    confirm = boolean(params, "confirm")
    if boolean(params, "off_session") and not confirm:
        raise invalid("off_session can only be used when confirm=true.", "off_session")
    card = params.get("payment_method") or None
    method: Json | None = None
    if card is not None and card not in TEST_CARDS:
        method = core.get("payment_method", card, account, "payment_method")
        _check_reusable(core, method, customer)
    require_charges_enabled(core, account)
    if not confirm:
        if method is None and card is not None:
            method = new_payment_method(core, account, card, None)
        intent = core.base("pi_", "payment_intent", amount=amount, currency=currency_, customer=customer)
        intent.update(
            status="requires_confirmation" if card else "requires_payment_method",
            payment_method=method["id"] if method else None,
            latest_charge=None,
            application_fee_amount=terms["application_fee_amount"],
            metadata=terms["metadata"],
            client_secret=f"{intent['id']}_secret_{new_id('', 24)}",
        )
        return core.store(intent, account)
    if card is None:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment method.", "payment_method")
    decline = decline_for(core, card)
    if method is None:
        method = new_payment_method(core, account, card, None)
    return confirm_payment(core, account, amount, currency_, customer, method, terms, decline)


def _check_reusable(core: Core, method: Json, customer: str | None) -> None:
    if method["customer"] is not None and method["customer"] != customer:
        raise invalid(
            f"The provided PaymentMethod {method['id']} is attached to Customer {method['customer']}: "
            "pass that customer with it.",
            "payment_method",
        )
    if method["customer"] is None and core.private[method["id"]]["used"]:
        raise invalid(
            "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "
            "shared with a connected account without Customer attachment, or was detached from a Customer. "
            "It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.",
            "payment_method",
        )


def retrieve(kind: str) -> Any:
    def handler(core: Core, account: str | None, params: Json, object_id: str) -> Json:
        check(params, RETRIEVE)
        return core.get(kind, object_id, account)

    return handler


# --- Refunds -------------------------------------------------------------------------------


def create_refund(core: Core, account: str | None, params: Json) -> Json:
    check(params, _REFUND_CREATE)
    if params.get("payment_intent"):
        intent = core.get("payment_intent", params["payment_intent"], account, "payment_intent")
        charge = core.objects.get(intent.get("latest_charge") or "")
        if intent["status"] != "succeeded" or charge is None:
            raise invalid("This PaymentIntent does not have a successful charge to refund.", "payment_intent")
    elif params.get("charge"):
        charge = core.get("charge", params["charge"], account, "charge")
    else:
        raise invalid("One of `charge` or `payment_intent` is required.", "payment_intent")
    if charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not succeeded: there is nothing to refund.", "charge")
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining == 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = optional_integer(params, "amount", 1)
    if amount is not None and amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).",
            "amount",
            code="amount_too_large",
        )
    reason = choice(params, "reason", ("duplicate", "fraudulent", "requested_by_customer"))
    boolean(params, "refund_application_fee")
    boolean(params, "reverse_transfer")
    amount = remaining if amount is None else amount
    refund = core.base("re_", "refund", amount=amount, currency=charge["currency"], charge=charge["id"])
    refund.update(
        payment_intent=charge["payment_intent"],
        reason=reason,
        status="succeeded",
        metadata=metadata(params.get("metadata")),
    )
    del refund["livemode"]  # refunds carry no livemode
    refund["balance_transaction"] = balance.record(
        core, account, "refund", -amount, charge["currency"], refund["id"], 0
    )
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    refunds = charge["refunds"]
    refunds["data"].insert(0, refund)
    refunds["total_count"] += 1
    core.store(refund, account)
    core.emit("charge.refunded", charge, account, previous)
    core.emit("refund.created", refund, account)
    return refund
