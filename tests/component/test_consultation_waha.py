"""The WAHA adapter behind the same interface: a signed WAHA webhook in, the answer out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.settings import Settings
from tests.factories import a_phone
from tests.fakes import waha
from tests.support import running_app, wait_for

pytestmark = pytest.mark.integration


async def test_a_waha_question_is_answered_through_waha(
    settings_for: Callable[..., Settings],
) -> None:
    phone = a_phone()
    with waha.running_fake_waha() as fake:
        settings = settings_for(
            Settings,
            whatsapp_gateway="waha",
            waha_url=fake.url,
            waha_api_key=waha.API_KEY,
            waha_webhook_secret=waha.WEBHOOK_SECRET,
            dispatch_interval_ms=50,
        )
        async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
            raw, headers = waha.signed_message(phone, "bikin akta lahir bawa apa")
            forged = await client.post(
                "/webhooks/waha", content=raw, headers={**headers, "X-Webhook-Hmac": "0" * 128}
            )
            assert forged.status_code == 401
            assert (
                await client.post("/webhooks/waha", content=raw, headers=headers)
            ).status_code == 200

            async def answered() -> list[dict[str, str]]:
                return [r for r in fake.requests if r["chatId"] == f"{phone[1:]}@c.us"]

            [sent] = await wait_for(answered, what="the answer at the fake WAHA")
            assert "Persyaratan Akta Kelahiran" in sent["text"] and sent["session"] == "default"
