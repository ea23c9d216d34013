"""The event catalogue: every stream, its payload schema, producers and consumer groups.

Built from the code, never written by hand: the consumer groups are the services' reaction
tables, the payload schemas the pydantic contracts, the producers the contracts each service's
source constructs. faststream's own AsyncAPI generator writes the document (AsyncAPI 3.0) from a
broker that only describes: it is never connected, and the running consumers (reader, claimer,
dead letters, idempotency in shared/consumer.py) are not touched.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.redis import RedisBroker, StreamSub
from faststream.specification import AsyncAPI

from shared.contracts import ALL_EVENTS, Event
from shared.handling import Reaction
from shared.streams import dlq_stream

# Where the catalogue says the streams live: the embedded default of `make run`.
DOCUMENTED_SERVER = "redis://localhost:6379"

DESCRIPTION = (
    "Every Redis stream of Menjamu: one stream per event type and version, written by the "
    "producing service's outbox relay (XADD, at least once), read by consumer groups (one per "
    "reaction; each replica reads new entries and claims abandoned ones; an event is applied "
    "once per group, by event_id). A message that keeps failing goes to `<stream>.dlq`."
)


@dataclass(frozen=True)
class ServiceEvents:
    """What one service publishes and how it reacts, as the catalogue needs it."""

    name: str
    reactions: Sequence[Reaction[Any]]
    publishes: Sequence[type[Event]]


def published_events(
    package_dir: Path, contracts: Iterable[type[Event]] = ALL_EVENTS
) -> list[type[Event]]:
    """The contracts a package's source builds (`SomeEventV1(...)`, `SomeEventV1.caused_by(...)`),
    in contract order; migrations are skipped."""
    by_name = {event.__name__: event for event in contracts}
    found: set[str] = set()
    for path in sorted(package_dir.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and (name := _called_name(node.func)) in by_name:
                found.add(name)
    return [event for name, event in by_name.items() if name in found]


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute) and func.attr == "caused_by":
        func = func.value
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):  # contracts.SomeEventV1(...)
        return func.attr
    return None


def build_catalogue(services: Sequence[ServiceEvents], *, version: str = "1") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the given services (a JSON-ready dict)."""
    broker = RedisBroker(DOCUMENTED_SERVER)
    for service in services:
        for event in service.publishes:
            broker.publisher(
                stream=event.STREAM,
                schema=event,
                title=f"{event.STREAM}:{service.name}",
                description=f"{service.name} publishes {event.__name__} through its outbox.",
            )
        for reaction in service.reactions:
            stream, group = reaction.event.STREAM, reaction.group
            subscriber = broker.subscriber(
                stream=StreamSub(stream, group=group, consumer=f"{service.name}-<replica>"),
                title=f"{stream}:{group}",
                description=_reaction_description(service.name, reaction),
            )
            subscriber(_receiver(reaction.event))
    spec = AsyncAPI(
        broker,
        title="Menjamu event catalogue",
        version=version,
        description=DESCRIPTION,
        schema_version="3.0.0",
    ).to_specification()
    document: dict[str, Any] = spec.to_jsonable()
    document["x-streams"] = stream_index(services)
    return document


def service_catalogue(
    name: str, reactions: Sequence[Reaction[Any]], package_dir: Path
) -> dict[str, Any]:
    """One service's part of the catalogue: the streams it publishes or consumes."""
    service = ServiceEvents(name, tuple(reactions), published_events(package_dir))
    document = build_catalogue([service])
    document["x-streams"] = {
        stream: entry
        for stream, entry in document["x-streams"].items()
        if entry["producers"] or entry["consumer_groups"]
    }
    return document


def stream_index(services: Sequence[ServiceEvents]) -> dict[str, dict[str, Any]]:
    """Per stream (every contract): its contract, producers, consumer groups, dead letters."""
    index: dict[str, dict[str, Any]] = {}
    for event in ALL_EVENTS:
        index[event.STREAM] = {
            "contract": event.__name__,
            "description": (event.__doc__ or "").strip(),
            "payload": {"$ref": f"#/components/schemas/{event.__name__}"},
            "producers": [s.name for s in services if event in s.publishes],
            "consumer_groups": sorted(
                {r.group for s in services for r in s.reactions if r.event is event}
            ),
            "dead_letters": dlq_stream(event.STREAM),
        }
    return index


def _reaction_description(service: str, reaction: Reaction[Any]) -> str:
    doc = (reaction.handle.__doc__ or "").strip().splitlines()
    what = f" {doc[0]}" if doc else ""
    mode = "in batches" if reaction.batch else "one at a time"
    return f"{service}, group `{reaction.group}` ({mode}).{what}"


def _receiver(event: type[Event]) -> Callable[[Any], Awaitable[None]]:
    """A typed handler for the describing broker only: it tells faststream the payload type."""

    async def receive(body: Any) -> None:
        """Never called: the catalogue's broker does not connect."""

    receive.__annotations__ = {"body": event, "return": None}
    return receive
