"""The OpenAPI 3.1 description of every route (`GET /v1/openapi.json`).

A test compares the routes Chalice registered with the operations listed here, so a
route cannot be added without being described.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalice import Blueprint

from chalicelib.api.routing import api_route

bp = Blueprint(__name__)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    auth: str  # "platform" | "admin" | "public" | "none"
    request: str | None = None  # component schema name
    response: str | None = None
    status: int = 200


_S = "Service"
_P = "Provider"
OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/v1/openapi.json", "This document", "none"),
    Operation(
        "POST",
        "/v1/platform/tenants",
        "Open a tenant; returns its keys once",
        "platform",
        "NewTenant",
        "OpenedTenant",
        201,
    ),
    Operation("GET", "/v1/admin/tenant", "Read settings", "admin", None, "Tenant"),
    Operation("PATCH", "/v1/admin/tenant", "Change settings", "admin", "TenantSettings", "Tenant"),
    Operation(
        "POST",
        "/v1/admin/keys/rotate",
        "Issue a new secret key and revoke the old one",
        "admin",
        None,
        "RotatedKey",
        201,
    ),
    Operation("POST", "/v1/admin/services", "Create a service", "admin", _S, _S, 201),
    Operation("GET", "/v1/admin/services", "List services", "admin", None, "ServicePage"),
    Operation("GET", "/v1/admin/services/{service_id}", "Read a service", "admin", None, _S),
    Operation("PATCH", "/v1/admin/services/{service_id}", "Change a service", "admin", _S, _S),
    Operation("DELETE", "/v1/admin/services/{service_id}", "Delete a service", "admin", None, None, 204),
    Operation("POST", "/v1/admin/providers", "Create a provider", "admin", _P, _P, 201),
    Operation("GET", "/v1/admin/providers", "List providers", "admin", None, "ProviderPage"),
    Operation("GET", "/v1/admin/providers/{provider_id}", "Read a provider", "admin", None, _P),
    Operation("PATCH", "/v1/admin/providers/{provider_id}", "Change a provider", "admin", _P, _P),
    Operation(
        "DELETE",
        "/v1/admin/providers/{provider_id}",
        "Delete a provider with its rules and overrides",
        "admin",
        None,
        None,
        204,
    ),
    Operation(
        "PUT",
        "/v1/admin/providers/{provider_id}/availability",
        "Replace weekly rules",
        "admin",
        "WeeklyRules",
        "WeeklyRules",
    ),
    Operation(
        "GET", "/v1/admin/providers/{provider_id}/availability", "Read weekly rules", "admin", None, "WeeklyRules"
    ),
    Operation(
        "POST",
        "/v1/admin/providers/{provider_id}/overrides",
        "Add a date override (replaces one on the same date)",
        "admin",
        "DateOverride",
        "DateOverride",
        201,
    ),
    Operation(
        "GET", "/v1/admin/providers/{provider_id}/overrides", "List date overrides", "admin", None, "DateOverridePage"
    ),
    Operation(
        "DELETE",
        "/v1/admin/providers/{provider_id}/overrides/{override_id}",
        "Delete a date override",
        "admin",
        None,
        None,
        204,
    ),
    Operation(
        "GET",
        "/v1/public/services",
        "Active services with the providers that offer them",
        "public",
        None,
        "PublicServicePage",
    ),
    Operation(
        "GET",
        "/v1/public/services/{service_id}/availability",
        "Open starts between two dates (inclusive, at most 62) in a timezone",
        "public",
        None,
        "Availability",
    ),
    Operation(
        "POST",
        "/v1/public/appointments",
        "Book (409 slot_unavailable, 422 outside_availability)",
        "public",
        "BookingRequest",
        "Booked",
        201,
    ),
    Operation(
        "GET",
        "/v1/public/appointments/{appointment_id}",
        "The appointment, with its action token",
        "public",
        None,
        "Appointment",
    ),
    Operation(
        "POST",
        "/v1/public/appointments/{appointment_id}/cancel",
        "Cancel with the action token",
        "public",
        "TokenAction",
        "Cancelled",
    ),
    Operation(
        "POST",
        "/v1/public/appointments/{appointment_id}/reschedule",
        "Move with the action token",
        "public",
        "TokenReschedule",
        "Booked",
    ),
    Operation(
        "GET",
        "/v1/admin/appointments",
        "List by start, filtered by status, provider, service",
        "admin",
        None,
        "AppointmentPage",
    ),
    Operation(
        "POST",
        "/v1/admin/appointments",
        "Manual booking (skipPayment allowed)",
        "admin",
        "BookingRequest",
        "Booked",
        201,
    ),
    Operation("GET", "/v1/admin/appointments/{appointment_id}", "Read an appointment", "admin", None, "Appointment"),
    Operation(
        "POST", "/v1/admin/appointments/{appointment_id}/cancel", "Cancel", "admin", "CancelRequest", "Cancelled"
    ),
    Operation(
        "POST",
        "/v1/admin/appointments/{appointment_id}/reschedule",
        "Move to another start or provider",
        "admin",
        "RescheduleRequest",
        "Booked",
    ),
    Operation(
        "POST",
        "/v1/admin/appointments/{appointment_id}/complete",
        "Mark a started appointment completed",
        "admin",
        None,
        "Appointment",
    ),
    Operation(
        "POST",
        "/v1/admin/appointments/{appointment_id}/no-show",
        "Mark a started appointment a no-show",
        "admin",
        None,
        "Appointment",
    ),
    Operation(
        "GET",
        "/v1/admin/audit",
        "The audit trail, newest first (from, to, entityId, limit, cursor)",
        "admin",
        None,
        "AuditPage",
    ),
    Operation(
        "PUT",
        "/v1/admin/payments/stripe",
        "Use an existing Stripe connected account",
        "admin",
        "StripeAccountRequest",
        "StripeAccount",
    ),
    Operation(
        "POST",
        "/v1/admin/payments/stripe/onboarding",
        "A Stripe onboarding link (creates the account once)",
        "admin",
        None,
        "Url",
        201,
    ),
    Operation("GET", "/v1/admin/payments/stripe", "The connected account's status", "admin", None, "StripeAccount"),
    Operation(
        "POST",
        "/v1/webhooks/stripe",
        "Stripe events, verified by the Stripe-Signature header",
        "none",
        None,
        "WebhookReceipt",
    ),
    Operation(
        "GET",
        "/v1/admin/appointments/{appointment_id}/payments",
        "Ledger, refunds and totals",
        "admin",
        None,
        "Payments",
    ),
    Operation(
        "POST",
        "/v1/admin/appointments/{appointment_id}/refunds",
        "Refund (default: everything still refundable); processed asynchronously",
        "admin",
        "RefundRequest",
        "Refund",
        201,
    ),
    Operation(
        "POST",
        "/v1/admin/appointments/{appointment_id}/balance",
        "What is still owed: a payment link (method=link) or the saved card charged (method=charge)",
        "admin",
        "BalanceRequest",
        "Balance",
    ),
)

_OBJECT: dict[str, Any] = {"type": "object"}
_TIERS = {
    "type": ["object", "null"],
    "properties": {
        "tiers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["minHoursBefore", "refundPercent"],
                "properties": {
                    "minHoursBefore": {"type": "integer", "minimum": 0},
                    "refundPercent": {"type": "integer", "minimum": 0, "maximum": 100},
                },
            },
        }
    },
}
_RANGE = {
    "type": "object",
    "required": ["start", "end"],
    "properties": {
        "start": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
        "end": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
    },
}


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "nextCursor": {"type": ["string", "null"]},
        },
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": _OBJECT},
            }
        },
    },
    "NewTenant": {
        "type": "object",
        "required": ["name", "slug", "timezone", "currency", "email"],
        "properties": {k: {"type": "string"} for k in ("name", "slug", "timezone", "currency", "email")},
    },
    "Tenant": {
        "type": "object",
        "properties": {
            **{k: {"type": "string"} for k in ("id", "name", "slug", "timezone", "currency", "email")},
            "branding": _OBJECT,
            "slotIntervalMinutes": {"type": "integer"},
            "minNoticeMinutes": {"type": "integer"},
            "maxAdvanceDays": {"type": "integer"},
            "reminderOffsetsMinutes": {"type": "array", "items": {"type": "integer"}},
            "defaultCancellationPolicy": _TIERS,
            "taxRateBps": {"type": "integer"},
            "smsEnabled": {"type": "boolean"},
            "version": {"type": "integer"},
        },
    },
    "TenantSettings": {"$ref": "#/components/schemas/Tenant"},
    "OpenedTenant": {
        "type": "object",
        "properties": {
            "tenant": {"$ref": "#/components/schemas/Tenant"},
            "publishableKey": {"type": "string"},
            "secretKey": {"type": "string"},
        },
    },
    "RotatedKey": {"type": "object", "properties": {"secretKey": {"type": "string"}}},
    "Service": {
        "type": "object",
        "required": ["name", "durationMinutes"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "durationMinutes": {"type": "integer", "minimum": 1},
            "bufferBeforeMinutes": {"type": "integer", "minimum": 0},
            "bufferAfterMinutes": {"type": "integer", "minimum": 0},
            "slotIntervalMinutes": {"type": ["integer", "null"], "minimum": 1},
            "priceCents": {"type": "integer", "minimum": 0},
            "currency": {"type": "string"},
            "depositCents": {"type": ["integer", "null"]},
            "depositPercent": {"type": ["integer", "null"]},
            "capacity": {"type": "integer", "minimum": 1},
            "noShowFeeCents": {"type": ["integer", "null"], "minimum": 1},
            "active": {"type": "boolean"},
            "intakeFields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "type"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "type": {
                            "enum": ["text", "textarea", "select", "checkbox", "date", "phone", "email", "number"]
                        },
                        "required": {"type": "boolean"},
                        "options": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "cancellationPolicy": _TIERS,
            "version": {"type": "integer", "readOnly": True},
        },
    },
    "ServicePage": _page("Service"),
    "PublicServicePage": _page("Service"),
    "Provider": {
        "type": "object",
        "required": ["name", "email"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "timezone": {"type": ["string", "null"]},
            "serviceIds": {"type": "array", "items": {"type": "string"}},
            "active": {"type": "boolean"},
        },
    },
    "ProviderPage": _page("Provider"),
    "WeeklyRules": {
        "type": "object",
        "required": ["rules"],
        "properties": {
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["dayOfWeek", "start", "end"],
                    "properties": {
                        "dayOfWeek": {"type": "integer", "minimum": 0, "maximum": 6},
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                        "serviceIds": {"type": ["array", "null"], "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "DateOverride": {
        "type": "object",
        "required": ["date", "intervals"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "date": {"type": "string", "format": "date"},
            "intervals": {"type": "array", "items": _RANGE},
        },
    },
    "DateOverridePage": _page("DateOverride"),
    "Availability": {
        "type": "object",
        "properties": {
            "timezone": {"type": "string"},
            "slots": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"},
                        "localStart": {"type": "string"},
                        "providerIds": {"type": "array", "items": {"type": "string"}},
                        "seatsLeft": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Client": {
        "type": "object",
        "required": ["name", "email", "timezone"],
        "properties": {k: {"type": "string"} for k in ("name", "email", "phone", "timezone")},
    },
    "BookingRequest": {
        "type": "object",
        "required": ["serviceId", "start", "client"],
        "properties": {
            "serviceId": {"type": "string"},
            "providerId": {"type": ["string", "null"]},
            "start": {"type": "string", "format": "date-time"},
            "client": {"$ref": "#/components/schemas/Client"},
            "intake": _OBJECT,
            "payment": {"enum": ["deposit", "full", None]},
            "idempotencyKey": {"type": "string"},
            "skipPayment": {"type": "boolean", "description": "admin only"},
        },
    },
    "Appointment": {
        "type": "object",
        "properties": {
            **{k: {"type": "string"} for k in ("id", "serviceId", "providerId", "start", "end", "timezone")},
            "status": {"enum": ["pending", "confirmed", "cancelled", "completed", "no_show", "expired"]},
            "client": {"$ref": "#/components/schemas/Client"},
            "intake": _OBJECT,
            "priceCents": {"type": "integer"},
            "currency": {"type": "string"},
            "amountPaidCents": {"type": "integer"},
            "amountRefundedCents": {"type": "integer"},
            "paymentStatus": {"enum": ["none", "deposit_paid", "paid", "partially_refunded", "refunded"]},
            "version": {"type": "integer"},
        },
    },
    "AppointmentPage": _page("Appointment"),
    "AuditEntry": {
        "type": "object",
        "properties": {
            **{k: {"type": "string"} for k in ("id", "at", "actor", "action", "entityType", "entityId")},
            "before": {"type": ["object", "null"]},
            "after": {"type": ["object", "null"]},
        },
    },
    "AuditPage": _page("AuditEntry"),
    "StripeAccountRequest": {
        "type": "object",
        "required": ["accountId"],
        "properties": {"accountId": {"type": "string"}},
    },
    "StripeAccount": {
        "type": "object",
        "properties": {
            "accountId": {"type": ["string", "null"]},
            "chargesEnabled": {"type": "boolean"},
            "detailsSubmitted": {"type": "boolean"},
            "payoutsEnabled": {"type": "boolean"},
            "platformFeeBps": {"type": "integer"},
        },
    },
    "Url": {"type": "object", "properties": {"url": {"type": "string"}}},
    "Refund": {
        "type": "object",
        "properties": {
            **{k: {"type": "string"} for k in ("id", "currency", "status", "reason", "requestedAt")},
            "amountCents": {"type": "integer"},
        },
    },
    "RefundRequest": {
        "type": "object",
        "properties": {"amountCents": {"type": "integer"}, "reason": {"type": "string"}},
    },
    "Payments": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _OBJECT},
            "refunds": {"type": "array", "items": {"$ref": "#/components/schemas/Refund"}},
            "totals": _OBJECT,
        },
    },
    "BalanceRequest": {"type": "object", "properties": {"method": {"enum": ["link", "charge"]}}},
    "Balance": {
        "type": "object",
        "properties": {
            "owedCents": {"type": "integer"},
            "url": {"type": "string"},
            "chargedCents": {"type": "integer"},
        },
    },
    "WebhookReceipt": {
        "type": "object",
        "properties": {"received": {"type": "boolean"}, "outcome": {"type": "string"}},
    },
    "Manage": {"type": "object", "properties": {"token": {"type": "string"}, "url": {"type": "string"}}},
    "Booked": {
        "type": "object",
        "properties": {
            "appointment": {"$ref": "#/components/schemas/Appointment"},
            "manage": {"$ref": "#/components/schemas/Manage"},
            "checkoutUrl": {"type": "string"},
        },
    },
    "Cancelled": {
        "type": "object",
        "properties": {
            "appointment": {"$ref": "#/components/schemas/Appointment"},
            "refund": {
                "type": "object",
                "properties": {"amountCents": {"type": "integer"}, "status": {"type": "string"}},
            },
        },
    },
    "TokenAction": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string"}, "reason": {"type": "string"}},
    },
    "TokenReschedule": {
        "type": "object",
        "required": ["token", "start"],
        "properties": {"token": {"type": "string"}, "start": {"type": "string"}},
    },
    "CancelRequest": {"type": "object", "properties": {"reason": {"type": "string"}}},
    "RescheduleRequest": {
        "type": "object",
        "required": ["start"],
        "properties": {"start": {"type": "string"}, "providerId": {"type": "string"}},
    },
}

_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "platform": [{"platformKey": []}],
    "admin": [{"secretKey": []}],
    "public": [{"publishableKey": []}],
    "none": [],
}
_ERRORS = {
    "400": "Malformed input (details.fields names each field)",
    "401": "Missing or invalid credentials",
    "403": "Credentials lack the right",
    "404": "Not found (also for another tenant's ids)",
    "409": "Conflict",
    "422": "Breaks a business rule",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _operation(op: Operation) -> dict[str, Any]:
    params = [
        {"name": _camel(name), "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    if op.method == "GET" and op.response and op.response.endswith("Page"):
        params += [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ]
    responses: dict[str, Any] = {}
    if op.response:
        responses[str(op.status)] = {
            "description": op.summary,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}},
        }
    else:
        responses[str(op.status)] = {"description": op.summary}
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status, text in _ERRORS.items():
        responses.setdefault(status, {"description": text, "content": error_ref})
    body: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}{re.sub(r'[^A-Za-z0-9]', '_', op.path)}",
        "security": _SECURITY[op.auth],
        "parameters": params,
        "responses": responses,
    }
    if op.request:
        body["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.request}"}}},
        }
    return body


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path = re.sub(r"{(\w+)}", lambda m: "{" + _camel(m.group(1)) + "}", op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Scheduling API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "platformKey": {"type": "http", "scheme": "bearer"},
                "secretKey": {"type": "http", "scheme": "bearer", "description": "sk_... secret key"},
                "publishableKey": {"type": "apiKey", "in": "header", "name": "X-Tenant-Key"},
            },
        },
    }


@api_route(bp, "/v1/openapi.json", "GET")
def get_openapi() -> dict[str, Any]:
    return openapi_document()
