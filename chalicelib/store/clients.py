"""Clients' money totals: what each client (a tenant's email) paid and got back, all time.

The totals move from the stream of ledger entries: each entry is counted in one transaction
with a marker item under the client's partition (`COUNTED#<entry>`, conditional on not
existing), so a record delivered twice counts once. Reading is a BatchGet of the clients a
report names, however long the tenant's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.appointments import ClientInfo
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.store import keys
from chalicelib.store.appointments import email_hash
from chalicelib.store.models import ClientItem, ClientMoneyCountedItem
from chalicelib.store.table import ensure_bound, is_condition_failure, transaction

# A stream record is retried for at most a day; the marker outlives that comfortably.
COUNTED_RETENTION = timedelta(days=14)
BATCH = 100


class ClientMoneyRepository:
    def count(self, tenant_id: str, client: ClientInfo, entry: LedgerEntry, now: datetime) -> bool:
        """Add a charge to the client's spent, a refund to its refunded (False: counted before;
        other kinds move nothing)."""
        if entry.kind not in (LedgerKind.CHARGE, LedgerKind.REFUND):
            return False
        ensure_bound()
        pk = keys.client_pk(tenant_id, email_hash(client.email))
        total = ClientItem.spent_cents if entry.kind is LedgerKind.CHARGE else ClientItem.refunded_cents
        try:
            with transaction() as tx:
                tx.save(
                    ClientMoneyCountedItem(pk, keys.client_counted_sk(entry.id), expires_at=now + COUNTED_RETENTION),
                    condition=ClientMoneyCountedItem.pk.does_not_exist(),
                )
                tx.update(
                    ClientItem(pk, keys.CLIENT_SK),
                    actions=[
                        total.add(entry.amount_cents),
                        # the booking wrote these; set them should money ever come first
                        ClientItem.name.set(ClientItem.name | client.name),
                        ClientItem.email.set(ClientItem.email | client.email),
                        ClientItem.timezone.set(ClientItem.timezone | client.timezone),
                        ClientItem.type.set(ClientItem),
                    ],
                )
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def lifetime_values(self, tenant_id: str, emails: Iterable[str]) -> dict[str, int]:
        """Lower-cased email -> spent minus refunded, all time (0 for a client with no money)."""
        ensure_bound()
        wanted = {keys.client_pk(tenant_id, email_hash(email)): email.strip().lower() for email in emails}
        values = dict.fromkeys(wanted.values(), 0)
        pks = list(wanted)
        for start in range(0, len(pks), BATCH):
            for item in ClientItem.batch_get([(pk, keys.CLIENT_SK) for pk in pks[start : start + BATCH]]):
                values[wanted[item.pk]] = int(item.spent_cents or 0) - int(item.refunded_cents or 0)
        return values
