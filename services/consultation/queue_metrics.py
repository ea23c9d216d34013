"""The outbound WhatsApp queue as Prometheus sees it (read when it scrapes)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from services.consultation import repository
from services.consultation.statuses import SendStatus
from shared.contracts import utcnow
from shared.runtime import Runtime


async def outbound_queue_metrics(runtime: Runtime) -> list[Metric]:
    """Messages by tenant and state: queued (waiting for a retry), due (waiting for a send
    slot of the sender's rate limit), sent, failed."""
    family = GaugeMetricFamily(
        "menjamu_whatsapp_outbound_messages",
        "Outbound WhatsApp messages by state (due = queued and waiting for a send slot).",
        labels=["tenant", "state"],
    )
    async with runtime.db.session() as session:
        rows = await repository.outbound_counts(session, utcnow())
    totals: dict[tuple[str, str], int] = {}
    for tenant, status, due, count in rows:
        state = "due" if status == SendStatus.QUEUED and due else status
        totals[(tenant, state)] = totals.get((tenant, state), 0) + count
    for tenant in sorted(runtime.tenants):
        for state in ("queued", "due", "sent", "failed"):
            family.add_metric([tenant, state], float(totals.get((tenant, state), 0)))
    return [family]
