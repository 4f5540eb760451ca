"""Reads remembered for the span of one unit of work (one stream record, one reminder).

The effects of one committed change each need the tenant and the provider: the confirmation
of a booking read the tenant three times and the provider three times, a tenth of the
dispatcher's calls. Inside `scope()` a repository read of the same key answers from the first
read; outside any scope, and after it ends, every read goes to the table. The scope lives in a
context variable, so the pump's concurrent lanes never share one, and nothing outlives it:
a unit of work sees the tenant as it was when the work began, never a stale copy from earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

T = TypeVar("T")

_current: ContextVar[dict[Hashable, Any] | None] = ContextVar("read_memo", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Remember reads until the block ends (nested scopes share the outermost one)."""
    if _current.get() is not None:
        yield
        return
    token = _current.set({})
    try:
        yield
    finally:
        _current.reset(token)


def read(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, or its earlier answer for `key` within the current scope (exceptions are not kept)."""
    memo = _current.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return cast(T, memo[key])


def forget(key: Hashable) -> None:
    """Drop `key` after a write through the same repository, so the scope reads it afresh."""
    memo = _current.get()
    if memo is not None:
        memo.pop(key, None)
