"""The API's routes."""

from __future__ import annotations

import re
from typing import Any

from ._balance import list_balance_transactions
from ._checkout import create_session, expire_session, retrieve_session
from ._connect import create_account, create_account_link, retrieve_account
from ._core import Core
from ._payments import create_payment_intent, create_refund, retrieve


def install(core: Core) -> None:
    ident = r"([A-Za-z0-9_]+)"
    routes: list[tuple[str, str, Any]] = [
        ("POST", "/v1/accounts", create_account),
        ("GET", f"/v1/accounts/{ident}", retrieve_account),
        ("POST", "/v1/account_links", create_account_link),
        ("POST", "/v1/checkout/sessions", create_session),
        ("GET", f"/v1/checkout/sessions/{ident}", retrieve_session),
        ("POST", f"/v1/checkout/sessions/{ident}/expire", expire_session),
        ("POST", "/v1/payment_intents", create_payment_intent),
        ("GET", f"/v1/payment_intents/{ident}", retrieve("payment_intent")),
        ("POST", "/v1/refunds", create_refund),
        ("GET", f"/v1/refunds/{ident}", retrieve("refund")),
        ("GET", f"/v1/charges/{ident}", retrieve("charge")),
        ("GET", "/v1/balance_transactions", list_balance_transactions),
        ("GET", f"/v1/balance_transactions/{ident}", retrieve("balance_transaction")),
        ("GET", f"/v1/customers/{ident}", retrieve("customer")),
        ("GET", f"/v1/payment_methods/{ident}", retrieve("payment_method")),
    ]
    core.routes = [(method, re.compile(path), handler) for method, path, handler in routes]
