"""Domain exceptions. The HTTP layer maps each one to a status and the API error body."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a client may see; `code` is the stable machine-readable name."""

    code = "error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(DomainError):
    """Malformed input; `details` names each offending field."""

    code = "invalid_request"


class AuthenticationError(DomainError):
    """No credentials, or credentials that match nothing."""

    code = "unauthorized"


class PermissionDeniedError(DomainError):
    """Valid credentials that lack the right for this operation."""

    code = "forbidden"


class NotFoundError(DomainError):
    """The resource does not exist for this tenant (another tenant's ids land here too)."""

    code = "not_found"


class ConflictError(DomainError):
    """The request collides with the current state (taken slug, concurrent edit, illegal transition)."""

    code = "conflict"


class RuleViolationError(DomainError):
    """Well-formed input that breaks a business rule."""

    code = "rule_violation"


class TokenGoneError(DomainError):
    """An action token that expired, was used, or was superseded."""

    code = "token_gone"


class RateLimitedError(DomainError):
    """Too many requests from one caller."""

    code = "rate_limited"


class ConcurrentUpdateError(ConflictError):
    """Someone else changed the item between our read and our conditional write."""

    code = "concurrent_update"


class SlotUnavailableError(ConflictError):
    """The start would be offered but for another booking, hold, busy block or a full class."""

    code = "slot_unavailable"


class OutsideAvailabilityError(RuleViolationError):
    """The start is not one availability offers (window, alignment, notice, horizon)."""

    code = "outside_availability"


class IdempotencyMismatchError(ConflictError):
    """An idempotency key reused with a different request."""

    code = "idempotency_key_reused"


class UpstreamUnavailableError(DomainError):
    """A provider we depend on (Stripe) is unavailable right now: retry later (503)."""

    code = "upstream_unavailable"


class PaymentsUnavailableError(UpstreamUnavailableError):
    """This stage cannot reach Stripe at all (its secrets are absent): routes that move money answer 503."""

    code = "payments_unavailable"


class CardDeclinedDomainError(RuleViolationError):
    """The saved card was declined; `details.declineCode` says why when Stripe tells."""

    code = "card_declined"


class PaymentRequiredError(RuleViolationError):
    """The booking offers to pay less up front than the service's `prepayment` requires."""

    code = "payment_required"


class PaymentsNotConfiguredError(RuleViolationError):
    """Money is due but the business has not connected a Stripe account that can take charges."""

    code = "payments_not_configured"


class RefundTooLargeError(RuleViolationError):
    """More than what was paid minus what was refunded (and refunds in flight)."""

    code = "refund_exceeds_paid"


class InvoiceIncompleteError(RuleViolationError):
    """An invoice would lack a field EU VAT law requires (Directive 2006/112/EC art. 226)."""

    code = "invoice_incomplete"


class NotInvoiceableError(RuleViolationError):
    """Only confirmed or completed appointments get an invoice."""

    code = "not_invoiceable"


class CalendarNotConfiguredError(UpstreamUnavailableError):
    """No Google OAuth client is configured on this deployment."""

    code = "calendar_not_configured"


class CalendarUnavailableError(UpstreamUnavailableError):
    """Google did not answer after the retries."""

    code = "calendar_unavailable"


class OAuthStateError(ValidationError):
    """An OAuth `state` that is not ours, was tampered with, or names another provider."""

    code = "invalid_state"


class OAuthStateExpiredError(TokenGoneError):
    code = "state_expired"


class CalendarGrantRefusedError(RuleViolationError):
    """Google refused the authorization code (used, expired, or a wrong verifier)."""

    code = "calendar_grant_refused"
