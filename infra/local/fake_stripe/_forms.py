"""Stripe's form encoding: `a[b][0][c]=1&expand[]=x` into nested dicts and lists.

Values stay strings as sent. A dict whose keys are all indexes (`0`, `1`...) becomes a list,
except under `metadata`, whose keys are the caller's own and may well be digits.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A body Stripe would refuse to parse; `param` names the offending parameter."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def parse_form(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        match = _NAME.match(name)
        if match is None:
            raise FormError(f"Invalid parameter name: {name}", name)
        _assign(root, [match.group(1), *_PART.findall(match.group(2))], value, name)
    return {key: _listify(value, key) for key, value in root.items()}


def _assign(node: dict[str, Any], parts: list[str], value: str, name: str) -> None:
    for depth, part in enumerate(parts):
        key = part if part != "" else str(len(node))  # `expand[]` appends
        if depth == len(parts) - 1:
            if isinstance(node.get(key), dict):
                raise FormError(f"Invalid parameter: {name} is both a value and a hash", name)
            node[key] = value
            return
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise FormError(f"Invalid parameter: {name} is both a value and a hash", name)
        node = child


def _listify(value: Any, key: str | None) -> Any:
    if not isinstance(value, dict):
        return value
    items = {k: _listify(v, k) for k, v in value.items()}
    if key != "metadata" and items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items
