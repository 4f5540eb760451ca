"""Each charge and refund counted once in its client's all-time totals (lifetime value)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.payments import LedgerEntry, LedgerKind
from chalicelib.observability import logger
from chalicelib.store.appointments import AppointmentRepository
from chalicelib.store.clients import ClientMoneyRepository


class ClientMoney:
    def __init__(
        self, appointments: AppointmentRepository, clients: ClientMoneyRepository, clock: Callable[[], datetime]
    ) -> None:
        self._appointments = appointments
        self._clients = clients
        self._clock = clock

    def count(self, tenant_id: str, entry: LedgerEntry) -> bool:
        """From the ledger entry's stream record; False when there was nothing (more) to count."""
        if entry.kind not in (LedgerKind.CHARGE, LedgerKind.REFUND):
            return False
        try:
            appointment = self._appointments.get(tenant_id, entry.appointment_id)
        except NotFoundError:
            logger.warning("money for an unknown appointment", extra={"entryId": entry.id})
            return False
        return self._clients.count(tenant_id, appointment.client, entry, self._clock())
