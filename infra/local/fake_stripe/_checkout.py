"""Checkout Sessions: creation, expiry and payment on the hosted page."""

from __future__ import annotations

from ._connect import EXPAND, RETRIEVE
from ._core import Core
from ._params import (
    ANY,
    LEAF,
    META,
    Json,
    check,
    choice,
    currency,
    integer,
    invalid,
    metadata,
    optional_integer,
    required,
    url,
)
from ._payments import (
    INTENT_DATA,
    application_fee,
    confirm_payment,
    decline_for,
    new_payment_method,
    require_charges_enabled,
    terms_of,
)

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 3600

_SESSION_CREATE = {
    "mode": LEAF,
    "line_items": [
        {
            "price_data": {
                "currency": LEAF,
                "unit_amount": LEAF,
                "product_data": {"name": LEAF, "description": LEAF, "images": [LEAF], "metadata": META},
            },
            "quantity": LEAF,
        }
    ],
    "payment_intent_data": INTENT_DATA,
    "metadata": META,
    "success_url": LEAF,
    "cancel_url": LEAF,
    "expires_at": LEAF,
    "customer": LEAF,
    "customer_email": LEAF,
    "customer_creation": LEAF,
    "client_reference_id": LEAF,
    "payment_method_types": [LEAF],
    "locale": LEAF,
    "submit_type": LEAF,
    "billing_address_collection": LEAF,
    "allow_promotion_codes": LEAF,
    "phone_number_collection": ANY,
    "custom_text": ANY,
    "expand": EXPAND,
}

# --- Checkout ------------------------------------------------------------------------------


def create_session(core: Core, account: str | None, params: Json) -> Json:
    check(params, _SESSION_CREATE)
    mode = required(params, "mode")
    if mode != "payment":
        raise invalid(f"fake_stripe models mode=payment only (got {mode!r})", "mode")
    items = required(params, "line_items")
    lines: list[Json] = []
    for index, item in enumerate(items):
        name = f"line_items[{index}]"
        price = required(item, "price_data", f"{name}[price_data]")
        product = required(price, "product_data", f"{name}[price_data][product_data]")
        unit_amount = f"{name}[price_data][unit_amount]"
        currency_ = f"{name}[price_data][currency]"
        lines.append(
            {
                "currency": currency(required(price, "currency", currency_), currency_),
                "unit_amount": integer(required(price, "unit_amount", unit_amount), unit_amount, 0),
                "name": required(product, "name", f"{name}[price_data][product_data][name]"),
                "quantity": integer(required(item, "quantity", f"{name}[quantity]"), f"{name}[quantity]", 1),
            }
        )
    if len({line["currency"] for line in lines}) > 1:
        raise invalid("All line_items must use the same currency.", "line_items")
    amount = sum(line["unit_amount"] * line["quantity"] for line in lines)
    intent_data = params.get("payment_intent_data") or {}
    fee = application_fee(intent_data, account, amount, "payment_intent_data[application_fee_amount]")
    choice(intent_data, "setup_future_usage", ("on_session", "off_session"))
    choice(intent_data, "capture_method", ("automatic", "automatic_async"))
    if params.get("customer") and params.get("customer_email"):
        raise invalid("You may only specify one of these parameters: customer, customer_email.", "customer_email")
    if params.get("customer"):
        core.get("customer", params["customer"], account, "customer")
    now = core.now()
    expires_at = optional_integer(params, "expires_at")
    if expires_at is not None and expires_at - now < MIN_EXPIRY_SECONDS:
        raise invalid(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.", "expires_at"
        )
    if expires_at is not None and expires_at - now > MAX_EXPIRY_SECONDS:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.", "expires_at"
        )
    require_charges_enabled(core, account)
    session = core.base("cs_test_", "checkout.session")
    session.update(
        mode="payment",
        url=f"{core.public_url()}/pay/{session['id']}",
        status="open",
        payment_status="unpaid",
        amount_subtotal=amount,
        amount_total=amount,
        currency=lines[0]["currency"],
        expires_at=expires_at if expires_at is not None else now + MAX_EXPIRY_SECONDS,
        metadata=metadata(params.get("metadata")),
        payment_intent=None,
        customer=params.get("customer"),
        customer_creation=choice(params, "customer_creation", ("always", "if_required"), "if_required"),
        customer_email=params.get("customer_email"),
        customer_details=None,
        client_reference_id=params.get("client_reference_id"),
        success_url=url(params, "success_url"),
        cancel_url=url(params, "cancel_url"),
    )
    core.private[session["id"]] = {"lines": lines, "terms": terms_of(intent_data, fee)}
    return core.store(session, account)


def retrieve_session(core: Core, account: str | None, params: Json, session_id: str) -> Json:
    check(params, RETRIEVE)
    return core.get("checkout.session", session_id, account)


def expire_session(core: Core, account: str | None, params: Json, session_id: str) -> Json:
    check(params, RETRIEVE)
    session = core.get("checkout.session", session_id, account)
    if session["status"] != "open":
        raise invalid(f"Only Checkout Sessions with status 'open' can be expired; this one is '{session['status']}'.")
    core.expire_session(session)
    return session


def complete_session(core: Core, session_id: str, card: str = "pm_card_visa", email: str | None = None) -> Json:
    """The customer pays on the hosted page. Raises ApiError(402) on a decline (the session stays open)."""
    core.expire_due()
    session = core.objects.get(session_id)
    if session is None or session["object"] != "checkout.session":
        raise invalid(f"No such checkout.session: '{session_id}'", code="resource_missing")
    if session["status"] != "open":
        raise invalid(f"This Checkout Session is {session['status']}: it can no longer be paid.")
    account = core.owner[session_id]
    terms = core.private[session_id]["terms"]
    decline = decline_for(core, card)
    if decline is not None:
        # Stripe records the failed attempt (`charge.failed`, `payment_intent.payment_failed`, with the
        # session's payment_intent_data) and raises the 402; the session stays open for another card.
        method = new_payment_method(core, account, card, None)
        currency_, amount = session["currency"], session["amount_total"]
        confirm_payment(core, account, amount, currency_, session["customer"], method, terms, decline)
    email = email or session["customer_email"] or "customer@example.com"
    customer = session["customer"]
    if customer is None and session["customer_creation"] == "always":
        customer = core.store(core.base("cus_", "customer", email=email, name=None, metadata={}), account)["id"]
    saved = terms["setup_future_usage"] is not None and customer is not None
    method = new_payment_method(core, account, card, customer if saved else None)
    intent = confirm_payment(core, account, session["amount_total"], session["currency"], customer, method, terms)
    session.update(
        status="complete",
        payment_status="paid",
        payment_intent=intent["id"],
        customer=customer,
        customer_details={"email": email, "name": None},
        url=None,
    )
    core.emit("checkout.session.completed", session, account)
    return session
