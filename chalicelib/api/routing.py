"""Route registration: every view's errors go through one mapping, every body is JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.actor import act_as
from chalicelib.api.errors import JSON_HEADERS, domain_error_response, internal_error_response
from chalicelib.domain.errors import DomainError

View = Callable[..., Any]
ANONYMOUS = "anonymous"


def api_route(bp: Blueprint, path: str, method: str, status: int = 200) -> Callable[[View], View]:
    """Register `view` for one method; its return value becomes a JSON body with `status`."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def handler(**kwargs: Any) -> Response:
            act_as(ANONYMOUS)  # until a credential names someone; warm Lambdas must not inherit the last caller
            try:
                result = view(**kwargs)
            except DomainError as error:
                return domain_error_response(error)
            except Exception:
                return internal_error_response()
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(body="", status_code=204)
            return Response(body=result, status_code=status, headers=dict(JSON_HEADERS))

        bp.route(path, methods=[method])(handler)
        return view

    return decorator
