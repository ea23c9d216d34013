"""The per-sender token bucket that paces outbound WhatsApp messages."""

from __future__ import annotations

from services.consultation.ratelimit import SenderLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_one_message_per_refill() -> None:
    clock = Clock()
    bucket = TokenBucket(60, clock=clock)
    assert bucket.available() == 60
    assert all(bucket.take() for _ in range(60))
    assert bucket.take() is False
    assert bucket.wait_s() == 1.0
    clock.now = 0.5
    assert bucket.take() is False
    clock.now = 1.0
    assert bucket.take() is True
    assert bucket.take() is False


def test_an_idle_bucket_never_holds_more_than_a_minute_of_tokens() -> None:
    clock = Clock()
    bucket = TokenBucket(6, clock=clock)
    bucket.take()
    clock.now = 3600
    assert bucket.available() == 6


def test_each_sender_number_has_its_own_bucket() -> None:
    limits = SenderLimits(1)
    assert limits.bucket("+628111").take() is True
    assert limits.bucket("+628111").take() is False
    assert limits.bucket("+628222").take() is True
