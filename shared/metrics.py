"""Prometheus metrics of a service: HTTP, consumers, outbox, plus values read at scrape time.

`install_metrics(app, settings)` adds a pure ASGI middleware (requests by route template and
status, latency histogram) and `GET /metrics`. Counters of the consumer helper are module-level
(one registry per process); lag, pending, dead letters and the outbox backlog are read from
Redis and the database when Prometheus scrapes, so they are never stale. The endpoint is not
public in production: it needs MENJAMU_METRICS_TOKEN (or the admin token) as a bearer token.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.settings import ServiceSettings

HTTP_REQUESTS = Counter(
    "menjamu_http_requests",
    "HTTP requests by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "menjamu_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_MESSAGES = Counter(
    "menjamu_consumer_messages",
    "Messages a consumer group finished, by outcome (handled, duplicate, failed, dead_lettered).",
    ["service", "group", "outcome"],
)
CONSUMER_SECONDS = Histogram(
    "menjamu_consumer_handling_seconds",
    "Time to handle one message or batch (its transaction included).",
    ["service", "group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Scrape-time probes: async functions of the service's runtime returning metric families (lag,
# backlog, business totals); an app adds its own in `app.state.metrics_probes`.
Probe = Callable[[Any], Awaitable[list[Metric]]]


def labelled(metric: Any, *labels: str) -> Any:
    """A metric's child for these label values, kept once made: labels() takes a lock and
    checks its values on every call, which the hot paths (each request, each message) skip."""
    key = (metric, labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


# Bounded by the label values in use: services, groups and outcomes; methods (see _METHODS),
# route templates and statuses.
_CHILDREN: dict[tuple[Any, tuple[str, ...]], Any] = {}


def consumer_done(
    service: str, group: str, outcome: str, seconds: float | None = None, count: int = 1
) -> None:
    """Counts finished messages of a consumer group (and times the call that handled them)."""
    labelled(CONSUMER_MESSAGES, service, group, outcome).inc(count)
    if seconds is not None:
        labelled(CONSUMER_SECONDS, service, group).observe(seconds)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests and times them by route template, not raw path."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            # A client may send any token as its method: others share one label, so the
            # series stay bounded by the routes and statuses.
            method = method if method in _METHODS else "OTHER"
            labelled(HTTP_REQUESTS, self.service, method, template, str(status[0])).inc()
            labelled(HTTP_LATENCY, self.service, method, template).observe(
                time.perf_counter() - started
            )


class _Snapshot(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        return iter(self.metrics)


async def render(probes: list[Probe], runtime: Any) -> bytes:
    """Renders the process's metrics plus every probe's fresh values (exposition format)."""
    extra: list[Metric] = []
    failed = 0
    for probe in probes:
        try:
            extra += await probe(runtime)
        except Exception:  # a probe whose server is down must not hide the other metrics
            failed += 1
    extra.append(_gauge("menjamu_metrics_probes_failed", "Scrape probes that failed.", failed))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(extra))
    return generate_latest(REGISTRY) + generate_latest(registry)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def metrics_allowed(settings: ServiceSettings, authorization: str) -> bool:
    """Whether a scrape may read /metrics: open in development unless a token is set."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    accepted = [s.get_secret_value() for s in (settings.metrics_token, settings.admin_token) if s]
    if settings.metrics_token is None and settings.environment != "production":
        return True
    return bool(token) and any(hmac.compare_digest(token, a) for a in accepted)


def install_metrics(app: Any, settings: ServiceSettings) -> None:
    """Adds the request metrics middleware and GET /metrics to a FastAPI app."""
    from starlette.responses import Response

    from shared.metrics_probes import RUNTIME_PROBES

    app.add_middleware(MetricsMiddleware, service=settings.service_name)

    async def metrics(request: Any) -> Any:
        if not metrics_allowed(settings, request.headers.get("authorization", "")):
            return Response("metrics need a bearer token\n", status_code=401)
        runtime = request.app.state.runtime
        probes = [*RUNTIME_PROBES, *getattr(request.app.state, "metrics_probes", [])]
        return Response(await render(probes, runtime), media_type=CONTENT_TYPE_LATEST)

    # A plain Starlette route: no dependency injection, not in the OpenAPI document.
    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
