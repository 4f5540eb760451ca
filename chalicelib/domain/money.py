"""Money as people read it, in ONE function used by mails, pages, invoices, receipts and the
report PDF: the currency's own minor unit (0 decimals for JPY, 3 for KWD, 2 for most) and its
symbol where English readers know one without doubt (`$` is the US dollar; other dollars are
`CA$`, `A$`, ... as CLDR's English data writes them), else the ISO code after the number."""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not the cent (Stripe's zero- and three-decimal lists).
_ZERO_DECIMAL = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]
_THREE_DECIMAL = ("BHD", "JOD", "KWD", "OMR", "TND")
MINOR_DIGITS = {**dict.fromkeys(_ZERO_DECIMAL, 0), **dict.fromkeys(_THREE_DECIMAL, 3)}
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "MXN": "MX$",
    "BRL": "R$",
    "ILS": "₪",
    "VND": "₫",
    "TWD": "NT$",
    "PHP": "₱",
}


def minor_digits(currency: str) -> int:
    """How many decimals the currency's minor unit has (2 for most, 0 for JPY, 3 for KWD)."""
    return MINOR_DIGITS.get(currency.upper(), 2)


def format_money(cents: int, currency: str) -> str:
    """`2000, "USD"` -> "$20.00"; `-5000, "EUR"` -> "-€50.00"; `1500, "JPY"` -> "¥1,500";
    `1234, "KWD"` -> "1.234 KWD". `cents` are the currency's minor units."""
    code = currency.upper()
    digits = minor_digits(code)
    value = abs(cents)
    number = f"{value:,}" if digits == 0 else f"{value / 10**digits:,.{digits}f}"
    sign = "-" if cents < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"
