"""Connect: accounts, account links and the onboarding they lead to."""

from __future__ import annotations

from ._core import Core, new_id
from ._params import (
    ANY,
    LEAF,
    META,
    Json,
    check,
    choice,
    metadata,
    missing,
    required,
    url,
)

ACCOUNT_LINK_SECONDS = 300
EXPAND = [LEAF]
RETRIEVE = {"expand": EXPAND}
_ACCOUNT_CREATE = {
    "type": LEAF,
    "email": LEAF,
    "country": LEAF,
    "business_type": LEAF,
    "default_currency": LEAF,
    "capabilities": ANY,
    "controller": ANY,
    "business_profile": ANY,
    "metadata": META,
    "expand": EXPAND,
}
_LINK_CREATE = {
    "account": LEAF,
    "refresh_url": LEAF,
    "return_url": LEAF,
    "type": LEAF,
    "collect": LEAF,
    "collection_options": ANY,
    "expand": EXPAND,
}


def create_account(core: Core, account: str | None, params: Json) -> Json:
    check(params, _ACCOUNT_CREATE)
    type_ = choice(params, "type", ("standard", "express", "custom"), "standard")
    obj = core.base("acct_", "account", type=type_, email=params.get("email"))
    obj.update(
        country=params.get("country") or "US",
        default_currency=(params.get("default_currency") or "usd").lower(),
        business_type=params.get("business_type"),
        charges_enabled=False,
        details_submitted=False,
        payouts_enabled=False,
        requirements={"currently_due": ["business_profile.url", "external_account", "tos_acceptance.date"]},
        metadata=metadata(params.get("metadata")),
    )
    del obj["livemode"]  # accounts carry no livemode
    return core.store(obj, None)


def retrieve_account(core: Core, account: str | None, params: Json, account_id: str) -> Json:
    check(params, RETRIEVE)
    if account not in (None, account_id):
        raise missing("account", account_id)
    return core.get("account", account_id, None)


def complete_onboarding(core: Core, account_id: str) -> Json:
    obj = core.get("account", account_id, None)
    previous = {k: obj[k] for k in ("charges_enabled", "details_submitted", "payouts_enabled", "requirements")}
    if not all(previous[k] for k in ("charges_enabled", "details_submitted", "payouts_enabled")):
        obj.update(
            charges_enabled=True, details_submitted=True, payouts_enabled=True, requirements={"currently_due": []}
        )
        core.emit("account.updated", obj, account_id, previous)
    return obj


def create_account_link(core: Core, account: str | None, params: Json) -> Json:
    check(params, _LINK_CREATE)
    account_id = required(params, "account")
    core.get("account", account_id, None, "account")
    required(params, "type")
    choice(params, "type", ("account_onboarding", "account_update"))
    refresh_url = url(params, "refresh_url") or required(params, "refresh_url")
    return_url = url(params, "return_url") or required(params, "return_url")
    token = new_id("", 32)
    now = core.now()
    core.links[token] = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "expires_at": now + ACCOUNT_LINK_SECONDS,
        "state": "new",  # -> visited (the page was shown) -> used
    }
    link_url = f"{core.public_url()}/onboard/{account_id}?link={token}"
    return {"object": "account_link", "created": now, "expires_at": now + ACCOUNT_LINK_SECONDS, "url": link_url}


def visit_onboarding(core: Core, account_id: str, token: str) -> tuple[str, Json | str | None]:
    """GET of an account link: ("page", account), ("redirect", refresh_url) or ("missing", None).

    Like Stripe's, a link is single-use and short-lived: shown once, then it sends to refresh_url.
    """
    link = core.links.get(token)
    if link is None or link["account"] != account_id:
        return "missing", None
    if link["state"] != "new" or core.now() > link["expires_at"]:
        return "redirect", str(link["refresh_url"])
    link["state"] = "visited"
    return "page", core.get("account", account_id, None)


def submit_onboarding(core: Core, account_id: str, token: str, finish: bool) -> tuple[str, str | None]:
    """POST of the onboarding page: ("redirect", return_url or refresh_url) or ("missing", None)."""
    link = core.links.get(token)
    if link is None or link["account"] != account_id:
        return "missing", None
    if link["state"] == "used":  # expiry only matters when the link is opened, not once onboarding started
        return "redirect", str(link["refresh_url"])
    link["state"] = "used"
    if finish:
        complete_onboarding(core, account_id)
    return "redirect", str(link["return_url"])
