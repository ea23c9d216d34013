"""REDIS_URL forms: plain, redis+sentinel://, and REDIS_SENTINELS with a master name."""

from __future__ import annotations

import pytest

from shared.redis_conn import parse_redis_url
from shared.settings import ServiceSettings


def test_a_plain_url_is_used_as_it_is() -> None:
    target = parse_redis_url("redis://:secret@redis:6379/3")
    assert not target.is_sentinel
    assert target.url == "redis://:secret@redis:6379/3"
    assert "secret" not in target.describe()


def test_a_sentinel_url_names_every_sentinel_the_master_and_the_database() -> None:
    target = parse_redis_url(
        "redis+sentinel://:p%40ss@s1:26379,s2:26380,s3/menjamu/2?sentinel_password=sp"
    )
    assert target.sentinels == (("s1", 26379), ("s2", 26380), ("s3", 26379))
    assert (target.master, target.db, target.password) == ("menjamu", 2, "p@ss")
    assert target.sentinel_password == "sp"
    assert "p@ss" not in repr(target) and "p@ss" not in target.describe()


def test_sentinels_given_apart_keep_the_database_and_password_of_redis_url() -> None:
    target = parse_redis_url("redis://:pw@ignored:6379/5", "10.0.0.1:26379, 10.0.0.2", "mymaster")
    assert target.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26379))
    assert (target.master, target.db, target.password) == ("mymaster", 5, "pw")


@pytest.mark.parametrize(
    ("url", "sentinels", "master", "message"),
    [
        ("redis+sentinel://s1:26379", "", "", "master's name"),
        ("redis://r:6379/0", "s1:26379", "", "REDIS_SENTINEL_MASTER"),
        ("redis+sentinel://:26379/m/0", "", "", "without host"),
    ],
)
def test_an_incomplete_sentinel_setting_fails_naming_what_is_missing(
    url: str, sentinels: str, master: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_redis_url(url, sentinels, master)


def test_settings_refuse_a_sentinel_url_without_a_master_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis+sentinel://s1:26379")
    with pytest.raises(ValueError, match="master's name"):
        ServiceSettings()
    monkeypatch.setenv("REDIS_URL", "redis+sentinel://s1:26379,s2:26379/menjamu/0")
    assert ServiceSettings().redis_target.master == "menjamu"


def test_the_broker_of_a_sentinel_target_asks_the_sentinels_for_the_master() -> None:
    from faststream.redis import RedisSentinelBroker

    from shared.redis_broker import redis_broker

    target = parse_redis_url("redis+sentinel://:p%40ss@s1:26379,s2:26380/menjamu/4")
    broker = redis_broker(target)
    assert isinstance(broker, RedisSentinelBroker)
    state = broker.config.broker_config.connection
    assert state._sentinels == [("s1", 26379), ("s2", 26380)]
    assert state._master_name == "menjamu"
    assert state._options["db"] == 4 and state._options["password"] == "p@ss"
