"""The fake's hosted pages: Checkout's payment page and Connect's onboarding page, minimal HTML."""

from __future__ import annotations

from html import escape
from typing import Any

Json = dict[str, Any]
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
CARDS = (
    ("pm_card_visa", "Visa •••• 4242 (succeeds)"),
    ("pm_card_chargeDeclined", "Visa •••• 0002 (declined)"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995 (insufficient funds)"),
)


def money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main>{body}</main></body></html>"
    ).encode()


def checkout(session: Json, lines: list[Json], error: str | None = None) -> bytes:
    items = "".join(
        f'<li><span class="product">{escape(line["name"])}</span> x {line["quantity"]}: '
        f"{escape(money(line['unit_amount'] * line['quantity'], line['currency']))}</li>"
        for line in lines
    )
    total = escape(money(session["amount_total"], session["currency"]))
    head = f'<h1>Pay</h1><ul>{items}</ul><p>Total: <strong class="amount">{total}</strong></p>'
    if session["status"] != "open":
        note = "already paid" if session["status"] == "complete" else "expired"
        return page("Checkout", f'{head}<p class="status">This Checkout Session is {note}.</p>')
    options = "".join(f'<option value="{value}">{escape(label)}</option>' for value, label in CARDS)
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    email = escape(session.get("customer_email") or "")
    cancel = session.get("cancel_url")
    cancel_link = f'<p><a class="cancel" href="{escape(cancel)}">Cancel</a></p>' if cancel else ""
    form = (
        f'<form method="post" action="/pay/{escape(session["id"])}">'
        f'<label>Email <input type="email" name="email" value="{email}"></label> '
        f'<label>Card <select name="card">{options}</select></label> '
        f'<button type="submit">Pay {total}</button></form>'
    )
    return page("Checkout", head + alert + form + cancel_link)


def paid(session: Json) -> bytes:
    success = (session.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", session["id"])
    link = f'<p><a class="success" href="{escape(success)}">Continue</a></p>' if success else ""
    amount = escape(money(session["amount_total"], session["currency"]))
    return page("Paid", f'<h1>Paid</h1><p class="amount">{amount}</p>{link}')


def onboarding(account: Json, token: str) -> bytes:
    action = f"/onboard/{escape(account['id'])}"
    hidden = f'<input type="hidden" name="link" value="{escape(token)}">'
    body = (
        f"<h1>Onboarding</h1><p>Account <code>{escape(account['id'])}</code> "
        f"({escape(account.get('email') or 'no email')})</p>"
        f'<form method="post" action="{action}">{hidden}<input type="hidden" name="action" value="complete">'
        '<button type="submit">Complete onboarding</button></form>'
        f'<form method="post" action="{action}">{hidden}<input type="hidden" name="action" value="exit">'
        '<button type="submit">Save and exit without finishing</button></form>'
    )
    return page("Onboarding", body)
