"""The consultation service sending through a fake WhatsApp Cloud API server (real HTTP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from services.consultation.settings import Settings
from tests.component.consultation_support import cloud_settings
from tests.fakes.cloud_api import FakeCloudApi, running_fake_cloud_api


@pytest.fixture
def fake() -> Iterator[FakeCloudApi]:
    """A fake Cloud API server on a free port, speaking Meta's wire format."""
    with running_fake_cloud_api() as server:
        yield server


@pytest.fixture
def settings(settings_for: Callable[..., Settings], fake: FakeCloudApi) -> Settings:
    """Consultation settings whose gateway is the fake server."""
    return cloud_settings(settings_for, fake)
