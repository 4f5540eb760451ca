"""The revenue report over a month of 1,000 and 10,000 appointments on the emulator.

Run with `python -m tests.bench.bench_reports [--appointments 10000]`. It writes a charge and
a platform fee per appointment (and a refund for every tenth) into one tenant's ledger,
plus another tenant's ledger of the same size that must not be read, then prints:
- the DynamoDB calls one revenue read makes (target: pages of the range's ledger only,
  independent of the other tenant and of anything outside the range);
- the pure report's compute time as a ratio to a calibration loop timed in the same run
  (target <= 1x). Figures are printed, never asserted: these machines are shared.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from infra.local.emulator import start_emulator
from infra.local.provision import provision

if TYPE_CHECKING:
    from chalicelib.domain.reports import LocalRange
    from chalicelib.store.payments import PaymentRepository

MONTH_START = datetime(2027, 3, 1, tzinfo=UTC)
RUNS = 5


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def seed(tenant_id: str, appointments: int) -> None:
    from chalicelib.domain.payments import LedgerEntry, LedgerKind
    from chalicelib.store.models import LedgerItem
    from chalicelib.store.payments import _ledger_item

    step = timedelta(days=30) / appointments
    with LedgerItem.batch_write() as batch:
        for n in range(appointments):
            at = MONTH_START + step * n
            entries = [LedgerEntry(f"c{n}", f"a{n}", LedgerKind.CHARGE, 5_000, "USD", at)]
            entries.append(LedgerEntry(f"f{n}", f"a{n}", LedgerKind.APPLICATION_FEE, 125, "USD", at))
            if n % 10 == 0:
                entries.append(LedgerEntry(f"r{n}", f"a{n}", LedgerKind.REFUND, 2_500, "USD", at + timedelta(hours=1)))
            for entry in entries:
                batch.save(_ledger_item(tenant_id, entry))


def read_ledger(repository: PaymentRepository, span: LocalRange, into: list) -> None:
    """Every ledger entry of the benchmark tenant in the range, appended to ``into``."""
    into.extend(repository.ledger_between("bench", span.start, span.end))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, nargs="*", default=[1_000, 10_000])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="No application metrics")
    emulator = start_emulator()
    from chalicelib.domain import reports
    from chalicelib.domain.reports import Granularity, LocalRange
    from chalicelib.store.payments import PaymentRepository
    from chalicelib.store.table import connection, reset_binding

    calls: Counter[str] = Counter()

    def count(model: object, params: object, **kwargs: object) -> None:
        calls[getattr(model, "name", "?")] += 1

    span = LocalRange(date(2027, 3, 1), date(2027, 3, 31), ZoneInfo("America/New_York"))
    print(f"{'appointments':>12} {'entries':>8} {'dynamodb calls':>15} {'read ms':>8} {'compute ms':>11} {'ratio':>6}")
    try:
        for appointments in args.appointments:
            emulator.reset()
            os.environ["TABLE_NAME"] = provision({"Stage": "dev"})["AppTable"]
            reset_binding()
            seed("bench", appointments)
            seed("neighbour", appointments)
            repository = PaymentRepository()
            connection().client.meta.events.register("before-call.dynamodb.*", count)
            calls.clear()
            entries: list = []
            read_s = timed(functools.partial(read_ledger, repository, span, entries))
            connection().client.meta.events.unregister("before-call.dynamodb.*", count)
            revenue = functools.partial(reports.revenue, entries, span, Granularity.DAY)
            compute = [timed(revenue) for _ in range(RUNS)]
            calibration = [timed(lambda: sum(range(10**6))) for _ in range(RUNS)]
            ratio = statistics.median(compute) / statistics.median(calibration)
            print(
                f"{appointments:>12} {len(entries):>8} {sum(calls.values()):>15} {read_s * 1000:>8.0f}"
                f" {statistics.median(compute) * 1000:>11.1f} {ratio:>6.2f}  {dict(calls)}"
            )
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
