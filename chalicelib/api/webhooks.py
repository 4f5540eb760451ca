"""Stripe webhooks, both behind API Gateway and on the Lambda Function URL (one service call)."""

from __future__ import annotations

import base64
import json
from typing import Any

from chalice import Blueprint

from chalicelib.actor import act_as
from chalicelib.api.errors import domain_error_response, internal_error_response
from chalicelib.api.lazy import payment_models, registry
from chalicelib.api.routing import api_route
from chalicelib.domain.errors import DomainError

bp = Blueprint(__name__)
STRIPE = "stripe"


@api_route(bp, "/v1/webhooks/stripe", "POST", auth="none", errors=(400, 409))
def stripe_webhook_route() -> payment_models.WebhookReceipt:
    """Stripe events, verified by the Stripe-Signature header; replays are harmless"""
    act_as(STRIPE)
    raw = bp.current_request.raw_body
    payload = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    receipt = registry.stripe_events().receive(payload, bp.current_request.headers.get("stripe-signature"))
    return payment_models.WebhookReceipt.model_validate(receipt)


@bp.lambda_function(name="stripe_webhook")
def stripe_webhook_function_url(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The same webhook on a Function URL (payload format 2.0): no API Gateway in the way."""
    act_as(STRIPE)
    body = event.get("body") or ""
    payload = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        result = registry.stripe_events().receive(payload, headers.get("stripe-signature"))
    except DomainError as error:
        response = domain_error_response(error)
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(response.body),
        }
    except Exception:
        response = internal_error_response()
        return {"statusCode": 500, "headers": {"Content-Type": "application/json"}, "body": json.dumps(response.body)}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(result)}
