"""Clients' all-time money totals on the emulator: counted once per ledger entry, read in batches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from chalicelib.domain.appointments import ClientInfo
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.store.clients import ClientMoneyRepository

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
ANN = ClientInfo("Ann", "Ann@Example.test", None, "UTC")


def entry(entry_id: str, kind: LedgerKind, cents: int) -> LedgerEntry:
    return LedgerEntry(entry_id, "apt_1", kind, cents, "EUR", NOW, "pi_1")


def test_each_entry_counts_once_however_often_and_concurrently_it_is_delivered(aws: str) -> None:
    clients = ClientMoneyRepository()
    charge, refund = entry("ch-1", LedgerKind.CHARGE, 5_000), entry("rf-1", LedgerKind.REFUND, 1_200)
    outcomes: list[bool] = []

    def deliver() -> None:
        outcomes.append(clients.count("tn1", ANN, charge, NOW))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clients.count("tn1", ANN, refund, NOW) is True
    assert clients.count("tn1", ANN, refund, NOW) is False
    assert clients.count("tn1", ANN, entry("fee-1", LedgerKind.APPLICATION_FEE, 250), NOW) is False

    assert sorted(outcomes) == [False] * 7 + [True]
    assert clients.lifetime_values("tn1", ["ann@example.test"]) == {"ann@example.test": 3_800}
    assert clients.lifetime_values("tn2", ["ann@example.test"]) == {"ann@example.test": 0}  # per tenant


def test_lifetime_values_of_more_clients_than_one_batch_holds(aws: str) -> None:
    clients = ClientMoneyRepository()
    emails = [f"client{n}@example.test" for n in range(230)]
    for n, email in enumerate(emails):
        clients.count("tn1", ClientInfo(f"C{n}", email, None, "UTC"), entry(f"ch-{n}", LedgerKind.CHARGE, n), NOW)

    values = clients.lifetime_values("tn1", [*emails, "never@example.test"])

    assert values == {**{email: n for n, email in enumerate(emails)}, "never@example.test": 0}
