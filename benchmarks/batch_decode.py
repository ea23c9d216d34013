"""What decoding a read batch costs: faststream's batch parser against the consumer's own.

One batch of 100 realistic registration events, as the relay writes them to the stream, turned
into validated contracts again and again; CPU time (time.process_time), so the figure holds on a
busy machine. faststream's parser decodes each entry and loads its JSON, dumps the list as one
JSON document and the decoder loads it again before the dicts are validated;
`shared.consumer.undecoded_batch` leaves the entries as read and each body goes straight to the
contract's JSON validation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from faststream.redis.parser.parsers import RedisBatchStreamParser, SimpleParserConfig

from benchmarks._common import Result, env_int
from benchmarks._infra import sample_event
from shared.consumer import _body_of
from shared.contracts.registration import ParticipantRegisteredV1
from shared.relay import encode_for_stream

BATCH = 100
ROUNDS = env_int("MENJAMU_BENCH_DECODE_ROUNDS", 300)
FASTSTREAM = "faststream's batch parser, then each dict validated (baseline)"
OWN = "undecoded_batch: each entry's body validated from its JSON"
NOTE = "events/s of CPU time (process_time): the decoding alone, no Redis, no database."


async def _raw_batch() -> dict[str, Any]:
    entries = []
    for i in range(BATCH):
        event = sample_event(i)
        fields = await encode_for_stream(event.TYPE, "bench", event.model_dump_json())
        entries.append({k.encode() if isinstance(k, str) else k: v for k, v in fields.items()})
    ids = [f"1-{i}".encode() for i in range(BATCH)]
    return {"type": "bstream", "channel": "bench", "message_ids": ids, "data": entries}


def _cpu_seconds(decode: Callable[[], list[ParticipantRegisteredV1]]) -> float:
    decode()  # warm-up
    started = time.process_time()
    for _ in range(ROUNDS):
        decode()
    return time.process_time() - started


async def run() -> list[Result]:
    """Times both decoders on the same batch, interleaved twice; keeps each one's best."""
    raw = await _raw_batch()
    parser = RedisBatchStreamParser(config=SimpleParserConfig(message_format=BinaryMessageFormatV1))
    model = ParticipantRegisteredV1

    def faststream_way() -> list[ParticipantRegisteredV1]:
        body, _headers, _batch_headers = parser._parse_data(raw)
        return [model.model_validate(item) for item in json.loads(body)]

    def own_way() -> list[ParticipantRegisteredV1]:
        return [model.model_validate_json(_body_of(entry)) for entry in raw["data"]]

    assert faststream_way() == own_way(), "the two decoders disagree"
    best = {FASTSTREAM: float("inf"), OWN: float("inf")}
    for _ in range(2):
        best[FASTSTREAM] = min(best[FASTSTREAM], _cpu_seconds(faststream_way))
        best[OWN] = min(best[OWN], _cpu_seconds(own_way))
    events = BATCH * ROUNDS
    return [
        Result(FASTSTREAM, events, best[FASTSTREAM], baseline=FASTSTREAM),
        Result(OWN, events, best[OWN], baseline=FASTSTREAM),
    ]
