"""Webhook payloads: Meta's signature and shapes, WAHA's, and Cloud API error mapping."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from services.consultation import cloudapi, webhooks
from services.consultation.gateway import Outgoing, SendRule
from tests.fakes.cloud_api import inbound_text_payload, status_payload


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_only_the_exact_signature_of_the_raw_body_passes() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    assert webhooks.valid_signature("s3cret", body, sign("s3cret", body))
    assert not webhooks.valid_signature("s3cret", body + b" ", sign("s3cret", body))
    assert not webhooks.valid_signature("s3cret", body, sign("other", body))
    assert not webhooks.valid_signature("s3cret", body, None)
    assert not webhooks.valid_signature("s3cret", body, "sha256=é")
    assert not webhooks.valid_signature("", body, sign("", body))


def test_meta_text_messages_and_statuses_are_parsed() -> None:
    payload = inbound_text_payload("6281234567890", "syarat KK?", "wamid.A1", 1_790_000_000)
    payload["entry"][0]["changes"][0]["value"].update(status_payload("wamid.OUT", "delivered"))
    messages, statuses = webhooks.parse_meta(payload)
    assert [(m.provider_message_id, m.phone, m.text) for m in messages] == [
        ("wamid.A1", "+6281234567890", "syarat KK?")
    ]
    assert [(s.provider_message_id, s.status) for s in statuses] == [("wamid.OUT", "delivered")]


def test_failed_status_keeps_metas_error_code() -> None:
    payload = inbound_text_payload("6281234567890", "x", "wamid.A1", 1_790_000_000)
    value = payload["entry"][0]["changes"][0]["value"]
    value.pop("messages")
    value.update(status_payload("wamid.OUT", "failed", error_code=131026))
    _, statuses = webhooks.parse_meta(payload)
    assert statuses[0].error_code == 131026


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"object": "page"},
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": 3}]}]},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"value": {"messages": [{"id": "w", "from": "abc"}]}}]}],
        },
    ],
)
def test_malformed_meta_payloads_are_refused_without_quoting_them(payload: object) -> None:
    with pytest.raises(webhooks.MalformedPayload) as caught:
        webhooks.parse_meta(payload)
    assert "abc" not in str(caught.value)


def test_waha_message_and_ack() -> None:
    message = {
        "event": "message",
        "payload": {
            "id": "false_628@c.us_A",
            "from": "6281234567890@c.us",
            "body": "halo",
            "timestamp": 1_790_000_000,
            "fromMe": False,
        },
    }
    messages, _ = webhooks.parse_waha(message)
    assert messages[0].phone == "+6281234567890" and messages[0].text == "halo"
    ack = {"event": "message.ack", "payload": {"id": "true_628@c.us_B", "ack": 3}}
    assert webhooks.parse_waha(ack)[1][0].status == "read"


def test_cloud_payloads_follow_metas_shapes() -> None:
    text = cloudapi.payload(Outgoing(to="+6281234567890", body="halo"))
    assert text == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {"preview_url": True, "body": "halo"},
    }
    template = cloudapi.payload(
        Outgoing(to="+62812", body="b", rule=SendRule.TEMPLATE, template="t1", params=("a", "b"))
    )
    assert template["template"] == {
        "name": "t1",
        "language": {"code": "id"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            }
        ],
    }
    document = cloudapi.payload(
        Outgoing(to="+62812", body="cap", rule=SendRule.DOCUMENT, document_url="https://x/a.pdf")
    )
    assert document["type"] == "document"
    assert document["document"]["link"] == "https://x/a.pdf"
    assert json.dumps(document)


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (429, 130429, True),
        (400, 131056, True),
        (500, 131000, True),
        (503, None, True),
        (401, 190, False),
        (400, 131026, False),
        (400, 131047, False),
        (400, 132001, False),
        (400, 100, False),
    ],
)
def test_cloud_errors_map_to_retryable_or_permanent(
    status: int, code: int | None, retryable: bool
) -> None:
    body = {"error": {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "x"}}
    assert cloudapi.classify(status, body).retryable is retryable


def test_template_variables_carry_no_new_lines_as_meta_requires() -> None:
    message = Outgoing(
        to="+62812", body="b", rule=SendRule.TEMPLATE, template="t", params=("a\n\nb\tc    d", "")
    )
    parameters = cloudapi.payload(message)["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["a b c d", "-"]
