"""The stream wire format the project owns (shared/wire.py) against faststream's own reader.

The relay writes entries with shared.wire; the consumers are faststream subscribers. If a
faststream upgrade changed its binary format, these tests fail before any event is lost.
"""

from __future__ import annotations

from typing import Any

import pytest
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from shared import wire
from shared.contracts import ParticipantRegisteredV1
from shared.relay import encode_for_stream
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _event(correlation_id: str = "req-7f3a.1") -> ParticipantRegisteredV1:
    return ParticipantRegisteredV1(
        tenant="mojosari",
        source="registration",
        correlation_id=correlation_id,
        registration_id="0b3c3f5e-0000-4000-8000-000000000001",
        activity_id="0b3c3f5e-0000-4000-8000-000000000002",
        activity_title="Sosialisasi Adminduk — Gen-Z",
        activity_date="2026-12-05",
        activity_location="Pendopo Kecamatan",
        name="Ayu Lestari",
        school="SMAN 1 Mojosari",
        phone="+6281234567890",
        level="SMA",
        consent=True,
    )


@pytest.mark.parametrize("correlation_id", ["req-7f3a.1", "korelasi-ü"])
async def test_faststream_parser_reads_what_the_relay_writes(correlation_id: str) -> None:
    """Header lengths count UTF-8 bytes, so even a non-ASCII header reads back whole."""
    event = _event(correlation_id)
    fields = await encode_for_stream(event.type, event.correlation_id, event.model_dump_json())
    body, headers = BinaryMessageFormatV1.parse(fields["__data__"])
    assert ParticipantRegisteredV1.model_validate_json(body) == event
    assert headers == {
        "correlation_id": event.correlation_id,
        "content-type": "application/json",
        "event_type": event.type,
    }


async def test_same_bytes_as_faststreams_own_encoder() -> None:
    """For the ASCII headers the services write (correlation ids are [A-Za-z0-9._:-]);
    faststream's encoder counts characters, not bytes, so it garbles non-ASCII headers."""
    event = _event()
    ours = wire.stream_fields(event.type, event.correlation_id, event.model_dump_json())
    theirs = await BinaryMessageFormatV1.encode(
        message=event.model_dump_json().encode(),
        reply_to=None,
        headers={"content-type": "application/json", "event_type": event.type},
        correlation_id=event.correlation_id,
    )
    assert ours["__data__"] == theirs
    assert wire.decode(theirs) == BinaryMessageFormatV1.parse(theirs)


def test_decode_refuses_what_is_not_a_binary_message() -> None:
    with pytest.raises(wire.WireError):
        wire.decode(b'{"data": "x"}')
    truncated = wire.encode(b"{}", {"correlation_id": "abc"})[:22]
    with pytest.raises(wire.WireError):
        wire.decode(truncated)


@pytest.mark.parametrize("correlation_id", ["req-7f3a.1", "korelasi-ü"])
async def test_the_body_alone_is_what_faststream_reads(correlation_id: str) -> None:
    """The consumers read only the body (wire.body_of, from the prefix): the same bytes as
    faststream's full parse, for the relay's entries and for faststream's own."""
    event = _event(correlation_id)
    ours = wire.stream_fields(event.type, event.correlation_id, event.model_dump_json())
    theirs = await BinaryMessageFormatV1.encode(
        message=event.model_dump_json().encode(),
        reply_to=None,
        headers={"event_type": event.type},
        correlation_id="req-7f3a.1",
    )
    for data in (ours["__data__"], theirs):
        assert wire.body_of(data) == BinaryMessageFormatV1.parse(data)[0]
    assert ParticipantRegisteredV1.model_validate_json(wire.body_of(ours["__data__"])) == event


def test_the_body_alone_refuses_what_is_not_a_binary_message() -> None:
    whole = wire.encode(b"{}", {"correlation_id": "abc"})
    broken_start = whole[:14] + (len(whole) + 1).to_bytes(4, "big") + whole[18:]
    for data in (b'{"data": "x"}', whole[:12], broken_start, whole[:8] + b"\x00\x02" + whole[10:]):
        with pytest.raises(wire.WireError):
            wire.body_of(data)


async def test_a_faststream_subscriber_receives_the_entry_from_real_redis(redis_url: str) -> None:
    """XADD what the relay writes; a faststream group subscriber gets the event and headers."""
    event = _event()
    stream = f"wire-test.{event.STREAM}"
    received: list[tuple[Any, dict[str, Any]]] = []
    broker = RedisBroker(redis_url)

    @broker.subscriber(stream=StreamSub(stream, group="wire-test", consumer="c1"))
    async def handle(body: ParticipantRegisteredV1, message: RedisStreamMessage) -> None:
        received.append((body, dict(message.headers)))

    redis = Redis.from_url(redis_url)
    try:
        await redis.xgroup_create(stream, "wire-test", id="0", mkstream=True)
        fields = await encode_for_stream(event.type, event.correlation_id, event.model_dump_json())
        await redis.xadd(stream, fields)
        async with broker:
            await broker.start()

            async def got() -> bool:
                return bool(received)

            await wait_for(got, timeout=30, what="the subscriber to receive the entry")
    finally:
        await redis.aclose()
    body, headers = received[0]
    assert body == event
    assert headers["correlation_id"] == event.correlation_id
    assert headers["event_type"] == event.type


async def test_our_reader_reads_what_faststream_publishes(redis_url: str) -> None:
    event = _event()
    stream = f"wire-test-publish.{event.STREAM}"
    broker = RedisBroker(redis_url)
    redis = Redis.from_url(redis_url)
    try:
        async with broker:
            await broker.publish(
                event.model_dump_json().encode(),
                stream=stream,
                headers={"event_type": event.type},
                correlation_id=event.correlation_id,
            )
        entries: Any = await redis.xrange(stream)
    finally:
        await redis.aclose()
    body, headers = wire.decode(entries[0][1][b"__data__"])
    assert ParticipantRegisteredV1.model_validate_json(body) == event
    assert headers["event_type"] == event.type
    assert headers["correlation_id"] == event.correlation_id
