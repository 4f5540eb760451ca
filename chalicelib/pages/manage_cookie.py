"""The manage cookie: the mail's token, moved out of the URL on first visit.

One cookie per appointment (`m_<id>`, path `/manage/<id>`), HttpOnly, Secure, SameSite=Lax
(Lax, not Strict: the first visit arrives from a mail client or Stripe's page, a cross-site
navigation), 30 minutes. Its value is `<tenantId>.<token>`; the token is still checked (hash,
version, use, expiry) by the booking service on every request.
"""

from __future__ import annotations

from chalicelib.pages import security


def cookie_name(appointment_id: str) -> str:
    return f"m_{appointment_id}"


def manage_cookie(appointment_id: str, tenant_id: str, token: str) -> str:
    return security.cookie(
        cookie_name(appointment_id), f"{tenant_id}.{token}", f"/manage/{appointment_id}", security.MANAGE_COOKIE_AGE
    )


def clear_manage_cookie(appointment_id: str) -> str:
    return security.cookie(cookie_name(appointment_id), "", f"/manage/{appointment_id}", 0)


def read_manage_cookie(header: str | None, appointment_id: str) -> tuple[str, str] | None:
    value = security.read_cookie(header, cookie_name(appointment_id))
    if not value or "." not in value:
        return None
    tenant_id, token = value.split(".", 1)
    return tenant_id, token
