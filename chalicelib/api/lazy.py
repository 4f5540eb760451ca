"""A module imported on first use: how the API's cold start stays at the route table.

Every Lambda of the app imports `app.py`, and with it every route module. Those name their
models, services and repositories through a `LazyModule`, so importing the app builds no
pydantic model and loads no PynamoDB or botocore: a route pays for what it uses on its
first call. `importlib.import_module` holds the import lock, so threads racing a first
call (the local server) all get the one fully loaded module.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"LazyModule({self._name!r})"


def resolve(reference: str) -> Any:
    """`"catalog_models.Service"` (a module of chalicelib.api, then a name in it) -> the object."""
    module, _, name = reference.rpartition(".")
    return getattr(importlib.import_module(f"chalicelib.api.{module}"), name)


# The modules route and page handlers call, typed for mypy and loaded on first use at run time:
# `from chalicelib.api.lazy import registry, catalog_models`.
if TYPE_CHECKING:  # `as` re-exports them for mypy
    from chalicelib.api import appointment_models as appointment_models
    from chalicelib.api import audit_models as audit_models
    from chalicelib.api import calendar_models as calendar_models
    from chalicelib.api import catalog_models as catalog_models
    from chalicelib.api import invoice_models as invoice_models
    from chalicelib.api import model_types as model_types
    from chalicelib.api import payment_models as payment_models
    from chalicelib.api import report_models as report_models
    from chalicelib.api import tenant_models as tenant_models
    from chalicelib.api import waitlist_models as waitlist_models
    from chalicelib.domain import catalog as catalog
    from chalicelib.domain import slots as slots
    from chalicelib.services import auth as auth
    from chalicelib.services import registry as registry
else:
    appointment_models = LazyModule("chalicelib.api.appointment_models")
    audit_models = LazyModule("chalicelib.api.audit_models")
    calendar_models = LazyModule("chalicelib.api.calendar_models")
    catalog_models = LazyModule("chalicelib.api.catalog_models")
    invoice_models = LazyModule("chalicelib.api.invoice_models")
    model_types = LazyModule("chalicelib.api.model_types")
    payment_models = LazyModule("chalicelib.api.payment_models")
    report_models = LazyModule("chalicelib.api.report_models")
    tenant_models = LazyModule("chalicelib.api.tenant_models")
    waitlist_models = LazyModule("chalicelib.api.waitlist_models")
    catalog = LazyModule("chalicelib.domain.catalog")
    slots = LazyModule("chalicelib.domain.slots")
    auth = LazyModule("chalicelib.services.auth")
    registry = LazyModule("chalicelib.services.registry")
