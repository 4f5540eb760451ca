"""The per-unit-of-work read memo: one read per key inside a scope, none kept outside it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from chalicelib.store import read_memo


def counting_loader(calls: list[str], value: str) -> Callable[[], str]:
    def load() -> str:
        calls.append(value)
        return value

    return load


def test_outside_a_scope_every_read_loads() -> None:
    calls: list[str] = []
    read_memo.read("k", counting_loader(calls, "a"))
    read_memo.read("k", counting_loader(calls, "a"))
    assert calls == ["a", "a"]


def test_inside_a_scope_a_key_loads_once_and_the_scope_ends_with_its_block() -> None:
    calls: list[str] = []
    with read_memo.scope():
        first = read_memo.read("k", counting_loader(calls, "a"))
        again = read_memo.read("k", counting_loader(calls, "b"))
        other = read_memo.read("j", counting_loader(calls, "c"))
    after = read_memo.read("k", counting_loader(calls, "d"))
    assert (first, again, other, after) == ("a", "a", "c", "d")
    assert calls == ["a", "c", "d"]


def test_a_nested_scope_shares_the_outer_one_and_does_not_end_it() -> None:
    calls: list[str] = []
    with read_memo.scope():
        with read_memo.scope():
            read_memo.read("k", counting_loader(calls, "a"))
        assert read_memo.read("k", counting_loader(calls, "b")) == "a"
    assert calls == ["a"]


def test_a_failed_read_is_not_remembered_and_forget_drops_a_key() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise LookupError("not yet")
        return "found"

    with read_memo.scope():
        with pytest.raises(LookupError):
            read_memo.read("k", flaky)
        assert read_memo.read("k", flaky) == "found"
        read_memo.forget("k")
        assert read_memo.read("k", flaky) == "found"
    assert len(attempts) == 3


def test_concurrent_threads_never_share_a_scope() -> None:
    seen: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with read_memo.scope():
            barrier.wait()
            seen[name] = read_memo.read("k", lambda: name)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"one": "one", "two": "two"}
