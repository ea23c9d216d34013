"""Values read when Prometheus scrapes: consumer lag and pending, dead letters, outbox backlog."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from shared.outbox import pending_count
from shared.streams import as_str, dlq_stream


async def consumer_group_metrics(runtime: Any) -> list[Metric]:
    """Lag, pending and dead letters of each consumer group of this service."""
    service = runtime.settings.service_name
    labels = ["service", "stream", "group"]
    lag = GaugeMetricFamily(
        "menjamu_consumer_lag", "Entries not yet read by the group.", labels=labels
    )
    pending = GaugeMetricFamily(
        "menjamu_consumer_pending", "Entries read but not acknowledged.", labels=labels
    )
    dead = GaugeMetricFamily(
        "menjamu_dead_letters",
        "Entries in the stream's dead-letter stream.",
        labels=["service", "stream"],
    )
    streams = set()
    for reaction in runtime.consumers.reactions:
        stream, group = reaction.event.STREAM, reaction.group
        streams.add(stream)
        for info in await runtime.redis.xinfo_groups(stream):
            if as_str(info["name"]) == group:
                lag.add_metric([service, stream, group], float(info.get("lag") or 0))
                pending.add_metric([service, stream, group], float(info.get("pending") or 0))
    for stream in sorted(streams):
        dead.add_metric([service, stream], float(await runtime.redis.xlen(dlq_stream(stream))))
    return [lag, pending, dead]


async def outbox_metrics(runtime: Any) -> list[Metric]:
    """Outbox backlog, events relayed and whether the relay is failing."""
    service = runtime.settings.service_name
    backlog = GaugeMetricFamily(
        "menjamu_outbox_backlog", "Outbox rows not yet published.", labels=["service"]
    )
    backlog.add_metric([service], float(await pending_count(runtime.db)))
    relayed = CounterMetricFamily(
        "menjamu_outbox_published", "Outbox rows published by this process.", labels=["service"]
    )
    relayed.add_metric([service], float(runtime.relay.published_total))
    failing = GaugeMetricFamily(
        "menjamu_outbox_relay_failing",
        "1 while the relay cannot publish (Redis or database).",
        labels=["service"],
    )
    failing.add_metric([service], 1.0 if runtime.relay.last_error else 0.0)
    return [backlog, relayed, failing]


# The probes every service has: its consumer groups and its outbox.
RUNTIME_PROBES = (consumer_group_metrics, outbox_metrics)
