"""The wire format of a stream entry, owned here: what the relay writes and consumers read.

A stream entry has one field, `__data__`, holding faststream's binary message format (version 1),
so faststream subscribers parse it without the project importing faststream's internals:

    magic (8 bytes) | version (u16) | headers_start (u32) | data_start (u32)
    | header count (u16) | per header: key length (u16), key, value length (u16), value | body

Integers are big-endian; lengths count UTF-8 bytes. tests/unit/test_wire.py checks that
faststream reads what this module writes, so a faststream upgrade that changes it fails a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from struct import error as StructError
from struct import pack, unpack_from

DATA_FIELD = "__data__"
MAGIC = b"\x89BIN\x0d\x0a\x1a\x0a"
VERSION = 1
_PREFIX = len(MAGIC) + 2 + 4 + 4  # magic, version, headers_start, data_start


class WireError(ValueError):
    """A stream entry that is not in the binary format."""


def encode(body: bytes, headers: Mapping[str, str]) -> bytes:
    """Encodes a body and its headers (in their order) as one binary message."""
    parts = [pack(">H", len(headers))]
    for key, value in headers.items():
        for text in (key, value):
            raw = text.encode()
            parts += [pack(">H", len(raw)), raw]
    header_block = b"".join(parts)
    data_start = _PREFIX + len(header_block)
    return MAGIC + pack(">HII", VERSION, _PREFIX, data_start) + header_block + body


def decode(data: bytes) -> tuple[bytes, dict[str, str]]:
    """Decodes one binary message into its body and headers; raises WireError otherwise."""
    if not data.startswith(MAGIC):
        raise WireError("not a binary message (magic bytes missing)")
    try:
        version, headers_start, data_start = unpack_from(">HII", data, len(MAGIC))
        if version != VERSION:
            raise WireError(f"unknown binary message version {version}")
        (count,) = unpack_from(">H", data, headers_start)
        offset = headers_start + 2
        headers: dict[str, str] = {}
        for _ in range(count):
            key, offset = _read_string(data, offset)
            value, offset = _read_string(data, offset)
            headers[key] = value
    except (StructError, UnicodeDecodeError) as exc:
        raise WireError(f"truncated or corrupt binary message: {exc}") from exc
    return data[data_start:], headers


def body_of(data: bytes) -> bytes:
    """The body of one binary message, read from its prefix alone (a consumer needs only the
    body: the headers are not read); raises WireError when the message is not in the format."""
    if not data.startswith(MAGIC):
        raise WireError("not a binary message (magic bytes missing)")
    try:
        version, _headers_start, data_start = unpack_from(">HII", data, len(MAGIC))
    except StructError as exc:
        raise WireError(f"truncated binary message: {exc}") from exc
    if version != VERSION:
        raise WireError(f"unknown binary message version {version}")
    if not _PREFIX <= data_start <= len(data):
        raise WireError("the body starts outside the message")
    return data[data_start:]


def _read_string(data: bytes, offset: int) -> tuple[str, int]:
    (length,) = unpack_from(">H", data, offset)
    start = offset + 2
    if start + length > len(data):
        raise WireError("header runs past the end of the message")
    return data[start : start + length].decode(), start + length


def event_headers(event_type: str, correlation_id: str) -> dict[str, str]:
    """The headers of an event entry, in the order faststream's own publisher writes them."""
    return {
        "correlation_id": correlation_id,
        "content-type": "application/json",
        "event_type": event_type,
    }


def stream_fields(event_type: str, correlation_id: str, payload: str) -> dict[str, bytes]:
    """The fields of one stream entry (XADD) carrying an event's JSON payload."""
    return {DATA_FIELD: encode(payload.encode(), event_headers(event_type, correlation_id))}
