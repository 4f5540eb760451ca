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
from typing import Any


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
